import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';

const MODEL = 'claude-sonnet-4-6';
const directive = (text: string) => `[[local-claude: ${text}]]`;

describe('local Claude fault directives', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const params = (content: string, model = MODEL) => ({
    model,
    max_tokens: 1024,
    messages: [{ role: 'user' as const, content }],
  });

  /** Streams until the end or an error; returns what arrived and what was thrown. */
  async function consume(content: string, signal?: AbortSignal) {
    const events: RawMessageStreamEvent[] = [];
    let error: unknown;
    try {
      const stream = await client.messages.create(
        { ...params(content), stream: true },
        signal && { signal },
      );
      for await (const event of stream) events.push(event);
    } catch (caught) {
      error = caught;
    }
    const deltas = events.filter((event) => event.type === 'content_block_delta').length;
    return { events, deltas, error };
  }

  const post = (content: string) =>
    fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': 'test',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify(params(content)),
    });

  it.each([
    [400, 'invalid_request_error', Anthropic.BadRequestError],
    [401, 'authentication_error', Anthropic.AuthenticationError],
    [429, 'rate_limit_error', Anthropic.RateLimitError],
    [500, 'api_error', Anthropic.InternalServerError],
    [529, 'overloaded_error', Anthropic.OverloadedError],
  ])(
    'answers error-before status=%i with %s in the API error shape',
    async (status, type, errorClass) => {
      const error = await client.messages
        .create(params(`go ${directive(`fault=error-before status=${status}`)}`))
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({
        status,
        type,
        requestID: expect.stringMatching(/^req_local_/),
        error: { type: 'error', error: { type, message: expect.any(String) } },
      });
    },
  );

  it('sends retry-after with a rate limit error', async () => {
    const response = await post(`go ${directive('fault=error-before status=429 retry-after=7')}`);

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
    });
  });

  it('names the cause in error.details with error-code, so the SDK raises its typed error', async () => {
    const error = await client.messages
      .create(
        params(`go ${directive('fault=error-before status=400 error-code=tool_name_conflict')}`),
      )
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.ToolNameConflictError);
    expect(error).toMatchObject({
      errorCode: 'tool_name_conflict',
      details: { error_code: 'tool_name_conflict' },
    });
  });

  it("refuses a prompt too long in the API's own words with prompt-tokens, and only as a 400", async () => {
    const error = await client.messages
      .create(params(`go ${directive('fault=error-before status=400 prompt-tokens=215000')}`))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      apiMessage: 'prompt is too long: 215000 tokens > 200000 maximum',
    });
    await expect(
      client.messages.create(
        params(`go ${directive('fault=error-before status=529 prompt-tokens=215000')}`),
      ),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('prompt-tokens= goes with an invalid_request_error'),
    });
  });

  it("refuses an account out of credit in the API's own words with out-of-credit, as a 400 and not a 402", async () => {
    const error = await client.messages
      .create(params(`go ${directive('fault=error-before status=400 out-of-credit=true')}`))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      apiMessage: expect.stringMatching(
        /^Your credit balance is too low to access the Anthropic API\./,
      ),
    });
    await expect(
      client.messages.create(
        params(`go ${directive('fault=error-before status=402 out-of-credit=true')}`),
      ),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('out-of-credit=true goes with an invalid_request_error'),
    });
  });

  it('sends x-should-retry with should-retry, which the SDK obeys over its own retry rules', async () => {
    const retrying = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 2 });
    const content = `go ${directive('fault=error-before status=500 should-retry=false key=no-retry-500')}`;

    const error = await retrying.messages
      .create(params(content))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    const attempts = claude.requests.filter((request) =>
      JSON.stringify(request.body).includes('key=no-retry-500'),
    );
    expect(attempts).toHaveLength(1);
  });

  it('fails only the first `times` requests with a key, so the SDK retry succeeds', async () => {
    const retrying = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 2 });

    const message = await retrying.messages.create(
      params(
        `go ${directive('fault=error-before status=429 retry-after=0 times=1 key=retry-429')}`,
      ),
    );

    expect(message.stop_reason).toBe('end_turn');
    const attempts = claude.requests.filter((request) =>
      JSON.stringify(request.body).includes('key=retry-429'),
    );
    expect(attempts).toHaveLength(2);
  });

  it('counts times per key across requests', async () => {
    const content = `go ${directive('fault=error-before status=529 times=2 key=count-529')}`;

    const statuses = [
      (await post(content)).status,
      (await post(content)).status,
      (await post(content)).status,
    ];

    expect(statuses).toEqual([529, 529, 200]);
  });

  it('keys times by the directive text when no key is given', async () => {
    const content = `go ${directive('fault=error-before status=529 times=1 ttft=1')}`;

    const statuses = [(await post(content)).status, (await post(content)).status];

    expect(statuses).toEqual([529, 200]);
  });

  it('reads directives from the last user message only, not from the history', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      messages: [
        { role: 'user', content: `first ${directive('fault=error-before status=529')}` },
        { role: 'assistant', content: 'An answer.' },
        { role: 'user', content: 'second' },
      ],
    });

    expect(message.stop_reason).toBe('end_turn');
  });

  it('applies a fault with model= only to requests for that model', async () => {
    const content = `go ${directive('fault=error-before status=529 model=claude-opus-4-6')}`;

    const other = await client.messages.create(params(content, 'claude-haiku-4-5'));
    const named = client.messages.create(params(content, 'claude-opus-4-6'));

    expect(other.stop_reason).toBe('end_turn');
    await expect(named).rejects.toBeInstanceOf(Anthropic.OverloadedError);
  });

  it('sends an overloaded error event after the asked number of deltas with error-mid', async () => {
    const { deltas, events, error } = await consume(
      `go ${directive('fault=error-mid after=3 type=overloaded_error')}`,
    );

    expect(deltas).toBe(3);
    expect(events.some((event) => event.type === 'message_stop')).toBe(false);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: undefined, type: 'overloaded_error' });
    expect(claude.requests.at(-1)).toMatchObject({ outputTokensSent: 3, aborted: false });
  });

  it('answers 200 and sends the error as the first event, before message_start, with error-first; the SDK does not retry it', async () => {
    const { events, error } = await consume(`go ${directive('fault=error-first key=first')}`);

    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: undefined, type: 'overloaded_error' });
    const calls = claude.requests.filter((r) => JSON.stringify(r.body).includes('key=first'));
    expect(calls).toHaveLength(1);
  });

  it('cuts the connection after the asked number of deltas with drop', async () => {
    const { deltas, events, error } = await consume(`go ${directive('fault=drop after=2')}`);

    expect(deltas).toBe(2);
    expect(events.some((event) => event.type === 'message_stop')).toBe(false);
    expect(error).toBeInstanceOf(Error);
    expect(claude.requests.at(-1)).toMatchObject({ outputTokensSent: 2, aborted: false });
  });

  it('ends the stream cleanly after the asked number of deltas, without message_stop, with end', async () => {
    const { deltas, events, error } = await consume(`go ${directive('fault=end after=2')}`);

    expect(deltas).toBe(2);
    expect(events.map((event) => event.type)).not.toContain('message_delta');
    expect(events.map((event) => event.type)).not.toContain('message_stop');
    // The SDK's loop over create({stream: true}) ends without a word: the caller must notice.
    expect(error).toBeUndefined();
    expect(claude.requests.at(-1)).toMatchObject({ outputTokensSent: 2, aborted: false });
  });

  it('sends an event whose data is not JSON after the asked deltas with garble, then the rest of the answer', async () => {
    const response = await fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': 'test',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        ...params(`go ${directive('fault=garble after=2 tokens=5')}`),
        stream: true,
      }),
    });
    const frames = (await response.text()).split('\n\n').filter(Boolean);
    const unreadable = frames.filter((frame) => {
      try {
        JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
        return false;
      } catch {
        return true;
      }
    });

    expect(unreadable).toHaveLength(1);
    const deltas = (frames: string[]) =>
      frames.filter((frame) => frame.includes('"text_delta"')).length;
    expect(deltas(frames.slice(0, frames.indexOf(unreadable[0]!)))).toBe(2);
    expect(deltas(frames)).toBe(5);
    expect(frames.at(-1)).toMatch(/^event: message_stop\n/);
  });

  it('answers a non-streaming request with a 200 whose JSON is cut short with garble', async () => {
    const response = await post(`go ${directive('fault=garble')}`);

    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toBeInstanceOf(SyntaxError);
  });

  it('answers a non-streaming request with a 200 whose body breaks off while read with cut', async () => {
    const response = await post(`go ${directive('fault=cut')}`);

    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toBeInstanceOf(TypeError);
  });

  it('cuts a stream after the asked number of deltas with cut, as with drop', async () => {
    const { deltas, error } = await consume(`go ${directive('fault=cut after=2')}`);

    expect(deltas).toBe(2);
    expect(error).toBeInstanceOf(Error);
  });

  it('stalls after the asked deltas until the client aborts, and records the abort', async () => {
    const controller = new AbortController();
    const events: RawMessageStreamEvent[] = [];
    const stream = await client.messages.create(
      { ...params(`go ${directive('fault=stall after=2')}`), stream: true },
      { signal: controller.signal },
    );
    const recorded = claude.requests.at(-1)!;

    const consumed = (async () => {
      for await (const event of stream) {
        events.push(event);
        if (events.filter((e) => e.type === 'content_block_delta').length === 2) controller.abort();
      }
    })().catch((error: unknown) => error);

    const outcome = await consumed;
    expect(outcome === undefined || outcome instanceof Anthropic.APIUserAbortError).toBe(true);
    expect(events.some((event) => event.type === 'message_stop')).toBe(false);
    await vi.waitFor(() => expect(recorded.aborted).toBe(true));
    expect(recorded.outputTokensSent).toBe(2);
  });

  it('answers nothing at all, not even headers, until the client gives up', async () => {
    const started = Date.now();
    const call = client.messages.create(
      { ...params(`go ${directive('fault=hang')}`), stream: true },
      { timeout: 300, maxRetries: 0 },
    );

    await expect(call).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await vi.waitFor(() => expect(claude.requests.at(-1)?.aborted).toBe(true));
    expect(claude.requests.at(-1)?.outputTokensSent).toBe(0);
  });

  it('stops generating as soon as the client aborts', async () => {
    const controller = new AbortController();
    const stream = await client.messages.create(
      { ...params(`go ${directive('tokens=400 tps=50')}`), stream: true },
      { signal: controller.signal },
    );
    const recorded = claude.requests.at(-1)!;
    for await (const event of stream) {
      if (event.type === 'content_block_delta') controller.abort();
    }

    await vi.waitFor(() => expect(recorded.aborted).toBe(true));
    const sentAtAbort = recorded.outputTokensSent;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(recorded.outputTokensSent).toBe(sentAtAbort);
    expect(sentAtAbort).toBeLessThan(400);
  });

  it('answers a non-streaming request with the error status of an error-mid fault', async () => {
    await expect(
      client.messages.create(params(`go ${directive('fault=error-mid after=3')}`)),
    ).rejects.toBeInstanceOf(Anthropic.OverloadedError);
  });

  it('cuts a non-streaming request before any response with drop', async () => {
    await expect(
      client.messages.create(params(`go ${directive('fault=drop')}`)),
    ).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
  });

  it('lets the header directive win over the one in the message', async () => {
    const stream = await client.messages.create(
      { ...params(`go ${directive('tokens=5 fault=error-before status=529')}`), stream: true },
      { headers: { 'x-local-claude-directive': 'tokens=2 fault=error-mid after=1' } },
    );
    const events: RawMessageStreamEvent[] = [];
    const error = await (async () => {
      for await (const event of stream) events.push(event);
    })().catch((caught: unknown) => caught);

    expect(events.filter((event) => event.type === 'content_block_delta')).toHaveLength(1);
    expect(error).toMatchObject({ type: 'overloaded_error' });
  });

  it('reads a message of many unclosed directive openings at once (each was read again to the end)', async () => {
    const content = `go ${directive('tokens=2')} ${'[[local-claude:'.repeat(40_000)}`;
    const startedAtMs = Date.now();

    const message = await client.messages.create(params(content));

    expect(Date.now() - startedAtMs).toBeLessThan(2_000);
    expect(message.usage.output_tokens).toBe(2);
  });

  it('rejects a directive it does not understand with a 400 naming it', async () => {
    await expect(
      client.messages.create(params(`go ${directive('fault=explode')}`)),
    ).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: expect.stringContaining('local-claude directive: fault=explode'),
    });
    await expect(
      client.messages.create(params(`go ${directive('tokenz=3')}`)),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("unknown key 'tokenz'"),
    });
  });
});
