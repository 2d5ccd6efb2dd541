import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyText, requestsMentioning } from './support/claude-requests.js';
import { answerText, collectSse, json, readSse, type SseEvent } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

async function storedAnswer(stack: TestStack, userId: string, conversationId: string) {
  const conversation = await json(
    await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
  );
  return conversation.messages.at(-1) as StoredAnswer;
}

interface StoredAnswer {
  role: string;
  content: string;
  stopReason: string;
  usage: { outputTokens: number; estimated?: boolean };
  costUsd: number;
}

/** The user's month holds exactly the stored answer's cost: the user's only call. */
async function expectBilledAsStored(stack: TestStack, userId: string, stored: StoredAnswer) {
  const spent = await json(await stack.request(userId, 'GET', '/v1/usage'));
  expect(spent).toMatchObject({
    requests: 1,
    outputTokens: stored.usage.outputTokens,
    costUsd: stored.costUsd,
  });
  expect(spent.costUsd).toBeGreaterThan(0);
}

describe('a turn that is interrupted', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 20 },
      env: { STREAM_IDLE_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => stack.close());

  it('answers a racing turn in the same conversation with 409 before any model call', async () => {
    const first = await collectSse(await stack.chat('racer', { message: 'short' }));
    const conversationId = first[0]!.data.conversationId;
    const slow = await stack.chat('racer', {
      conversationId,
      message: `long ${directive('tokens=40')}`,
    });
    const events = readSse(slow);
    expect((await events.next()).value?.event).toBe('start');

    const calls = stack.claude.requests.length;
    const racing = await stack.chat('racer', { conversationId, message: 'me too' });
    expect(racing.status).toBe(409);
    expect((await json(racing)).error.type).toBe('conflict_error');
    expect(stack.claude.requests.length).toBe(calls);

    const rest: SseEvent[] = [];
    for await (const event of events) rest.push(event);
    expect(rest.at(-1)?.event).toBe('done');
    const history = await json(
      await stack.request('racer', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(history.messages.map((m: { content: string }) => m.content)).not.toContain('me too');
    expect(history.messages).toHaveLength(4);
  });

  it('stops on request: upstream aborted, partial answer stored as stopped, stream ends with done', async () => {
    const response = await stack.chat('stopper', {
      message: `tell me everything ${directive('tokens=400')}`,
    });
    const events: SseEvent[] = [];
    let stopped = false;
    for await (const event of readSse(response)) {
      events.push(event);
      if (event.event === 'delta' && !stopped) {
        stopped = true;
        const stop = await stack.request(
          'stopper',
          'POST',
          `/v1/conversations/${events[0]!.data.conversationId}/stop`,
        );
        expect(stop.status).toBe(202);
      }
    }
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.stopReason).toBe('stopped');

    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.aborted).toBe(true);
    expect(upstream.outputTokensSent).toBeLessThan(400);

    const stored = await storedAnswer(stack, 'stopper', String(events[0]!.data.conversationId));
    expect(stored).toMatchObject({
      role: 'assistant',
      stopReason: 'stopped',
      content: answerText(events),
    });
    expect(stored.content.length).toBeGreaterThan(0);
    await expectBilledAsStored(stack, 'stopper', stored);
  });

  it('answers a question sent right after a Stop, once the stopped answer is stored, not with 409', async () => {
    // Two warm functions: the question must not wait out a cold start, which would hide the race.
    await Promise.all(
      ['warm-1', 'warm-2'].map(async (userId) =>
        collectSse(await stack.chat(userId, { message: 'hi' })),
      ),
    );
    const response = await stack.chat('stop-then-ask', {
      message: `tell me everything ${directive('tokens=400')}`,
    });
    const events = readSse(response);
    const start = (await events.next()).value!;
    const conversationId = String(start.data.conversationId);
    const delta = (await events.next()).value!;
    expect(delta.event).toBe('delta');

    const stop = await stack.request(
      'stop-then-ask',
      'POST',
      `/v1/conversations/${conversationId}/stop`,
    );
    expect(stop.status).toBe(202);
    const next = await stack.chat('stop-then-ask', { conversationId, message: 'something else' });
    expect(next.status).toBe(200);
    const nextEvents = await collectSse(next);

    const stopped: SseEvent[] = [start, delta];
    for await (const event of events) stopped.push(event);
    expect(stopped.at(-1)?.data.stopReason).toBe('stopped');
    expect(nextEvents.at(-1)?.data.stopReason).toBe('end_turn');
    const history = await json(
      await stack.request('stop-then-ask', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(
      history.messages.map((m: { stopReason?: string }) => m.stopReason ?? 'question'),
    ).toEqual(['question', 'stopped', 'question', 'end_turn']);
    expect(history.messages[1].content).toBe(answerText(stopped));
  });

  it('stops only the answer a stop names: a late stop of an ended answer leaves the next one streaming', async () => {
    const first = await collectSse(await stack.chat('named-stopper', { message: 'short' }));
    const { conversationId, messageId: ended } = first[0]!.data;
    const next = await stack.chat('named-stopper', {
      conversationId,
      message: `long ${directive('tokens=40')}`,
    });
    const events = readSse(next);
    const start = (await events.next()).value;
    const stopPath = `/v1/conversations/${conversationId}/stop`;

    const late = await stack.request('named-stopper', 'POST', `${stopPath}?messageId=${ended}`);
    const malformed = await stack.request('named-stopper', 'POST', `${stopPath}?messageId=x`);
    const named = await stack.request(
      'named-stopper',
      'POST',
      `${stopPath}?messageId=${start?.data.messageId}`,
    );

    expect(late.status).toBe(409);
    expect((await json(late)).error.message).toMatch(/is not the answer streaming/);
    expect(malformed.status).toBe(400);
    expect(named.status).toBe(202);
    const rest: SseEvent[] = [];
    for await (const event of events) rest.push(event);
    expect(rest.at(-1)?.data.stopReason).toBe('stopped');
  });

  it('stops a turn whose model is still being retried, before any token: done with stopped', async () => {
    const first = await collectSse(await stack.chat('early-stopper', { message: 'hello' }));
    const conversationId = String(first[0]!.data.conversationId);
    const key = `slow-start-${Date.now()}`;
    const pending = stack.chat('early-stopper', {
      conversationId,
      message: `go ${directive(`fault=error-before status=529 times=5 key=${key}`)}`,
    });
    const attempts = () => requestsMentioning(stack.claude, key);
    while (attempts().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const stop = await stack.request(
      'early-stopper',
      'POST',
      `/v1/conversations/${conversationId}/stop`,
    );
    expect(stop.status).toBe(202);

    const events = await collectSse(await pending);
    expect(events.map((e) => e.event)).toEqual(['start', 'done']);
    expect(events[1]?.data).toMatchObject({ stopReason: 'stopped', costUsd: 0 });
    // The SDK's remaining retries were abandoned: at most the attempt under way finished.
    expect(attempts().length).toBeLessThan(3);
    expect(await storedAnswer(stack, 'early-stopper', conversationId)).toMatchObject({
      stopReason: 'stopped',
      content: '',
    });
  });

  it('answers a stop with no turn streaming with 409', async () => {
    const events = await collectSse(await stack.chat('idle-stopper', { message: 'hi' }));
    const response = await stack.request(
      'idle-stopper',
      'POST',
      `/v1/conversations/${events[0]!.data.conversationId}/stop`,
    );
    expect(response.status).toBe(409);
  });

  it('runs to its end when the client disconnects: the whole answer stored and billed', async () => {
    const leaving = new AbortController();
    const response = await fetch(`${stack.url}/v1/chat`, {
      method: 'POST',
      signal: leaving.signal,
      headers: {
        authorization: `Bearer ${await stack.token('leaver')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ message: `go ${directive('tokens=30')}` }),
    });
    const events = readSse(response);
    const start = (await events.next()).value!;
    expect((await events.next()).value?.event).toBe('delta');
    leaving.abort();

    const conversationId = String(start.data.conversationId);
    await expect
      .poll(async () => (await storedAnswer(stack, 'leaver', conversationId)).stopReason, {
        timeout: 10_000,
      })
      .toBe('end_turn');
    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.aborted).toBe(false);
    expect(upstream.outputTokensSent).toBe(30);
    const spent = await json(await stack.request('leaver', 'GET', '/v1/usage'));
    expect(spent).toMatchObject({ requests: 1, outputTokens: 30 });
    expect(spent.costUsd).toBeGreaterThan(0);
  });

  it('keeps the partial answer and ends with a retryable error when the model fails mid-stream', async () => {
    const events = await collectSse(
      await stack.chat('failer', {
        message: `go ${directive('fault=error-mid after=3 type=overloaded_error')}`,
      }),
    );
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data).toMatchObject({ error: { type: 'overloaded_error' }, retryable: true });
    expect(events.filter((e) => e.event === 'delta')).toHaveLength(3);

    const stored = await storedAnswer(stack, 'failer', String(events[0]!.data.conversationId));
    expect(stored).toMatchObject({ stopReason: 'error', content: answerText(events) });
    // What it was billed, as done says it: the same as the user's month counts.
    const spent = await json(await stack.request('failer', 'GET', '/v1/usage'));
    expect(last.data).toMatchObject({
      messageId: events[0]!.data.messageId,
      usage: { inputTokens: spent.inputTokens, outputTokens: spent.outputTokens },
      costUsd: spent.costUsd,
    });
    expect(spent.costUsd).toBeGreaterThan(0);
  });

  it('keeps the partial answer when the upstream connection drops', async () => {
    const events = await collectSse(
      await stack.chat('dropper', { message: `go ${directive('fault=drop after=2')}` }),
    );
    expect(events.at(-1)?.event).toBe('error');
    const stored = await storedAnswer(stack, 'dropper', String(events[0]!.data.conversationId));
    expect(stored).toMatchObject({
      stopReason: 'error',
      content: answerText(events),
      usage: { estimated: true },
    });
    expect(stored.content.length).toBeGreaterThan(0);
    await expectBilledAsStored(stack, 'dropper', stored);
  });

  it('aborts a stalled upstream stream with the idle watchdog', async () => {
    const events = await collectSse(
      await stack.chat('staller', { message: `go ${directive('fault=stall after=2')}` }),
    );
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: { error: { type: 'timeout_error' }, retryable: true },
    });
    expect(stack.claude.requests.at(-1)!.aborted).toBe(true);
    const stored = await storedAnswer(stack, 'staller', String(events[0]!.data.conversationId));
    expect(stored).toMatchObject({
      stopReason: 'error',
      content: answerText(events),
      usage: { estimated: true },
    });
    await expectBilledAsStored(stack, 'staller', stored);
  });
});

describe('a turn near the function timeout', () => {
  it('ends cleanly before the timeout: partial answer stored as timeout, then done', async () => {
    const stack = await startTestStack({
      claude: { tokensPerSecond: 10 },
      chatTimeoutMs: 8_000,
      env: { DEADLINE_MARGIN_MS: '6000' },
    });
    try {
      const events = await collectSse(
        await stack.chat('slowpoke', { message: `go ${directive('tokens=500')}` }),
      );
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'timeout' } });
      expect(stack.claude.requests.at(-1)!.aborted).toBe(true);
      const stored = await storedAnswer(stack, 'slowpoke', String(events[0]!.data.conversationId));
      expect(stored).toMatchObject({ stopReason: 'timeout', content: answerText(events) });
      await expectBilledAsStored(stack, 'slowpoke', stored);
    } finally {
      await stack.close();
    }
  });
});

describe('model errors before the first token', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { FALLBACK_MODEL: 'claude-haiku-4-5', MODEL_MAX_RETRIES: '2' },
    });
  });
  afterAll(() => stack.close());

  it('retries throttling with the SDK and then streams', async () => {
    const events = await collectSse(
      await stack.chat('retry', {
        message: `go ${directive('fault=error-before status=429 retry-after=0 times=2 key=r1')}`,
      }),
    );
    expect(events.at(-1)?.event).toBe('done');
    const attempts = requestsMentioning(stack.claude, 'key=r1');
    expect(attempts).toHaveLength(3);
  });

  it("retries an overload Claude sends as its stream's first event, after a 200, as the SDK retries a 529, then streams", async () => {
    const response = await stack.chat('shed', {
      message: `go ${directive('fault=error-first times=1 key=shed1')}`,
    });
    expect(response.status).toBe(200);
    const events = await collectSse(response);
    // The model asked for, not the fallback: the overload did not outlast the retries.
    expect(events[0]).toMatchObject({ event: 'start', data: { model: 'claude-sonnet-4-6' } });
    expect(events.at(-1)?.event).toBe('done');
    const attempts = requestsMentioning(stack.claude, 'key=shed1');
    expect(attempts.map((r) => (r.body as { model: string }).model)).toEqual([
      'claude-sonnet-4-6',
      'claude-sonnet-4-6',
    ]);
  });

  it('falls back to FALLBACK_MODEL when overload outlasts the retries', async () => {
    const events = await collectSse(
      await stack.chat('fallback', {
        message: `go ${directive('fault=error-before status=529 model=claude-sonnet-4-6')}`,
      }),
    );
    expect(events[0]).toMatchObject({ event: 'start', data: { model: 'claude-haiku-4-5' } });
    expect(events.at(-1)?.event).toBe('done');
  });

  it("answers 502, not the caller's 401, 402 or 400, when the deployment's own key or account is refused", async () => {
    for (const [status, what] of [
      ['status=401', 'credentials'],
      ['status=403', 'credentials'],
      ['status=402', 'account'],
      // The API sends an account out of credit as a 400 invalid_request_error.
      ['status=400 out-of-credit=true', 'account'],
    ] as const) {
      const response = await stack.chat('unpaid', {
        message: `go ${directive(`fault=error-before ${status}`)}`,
      });
      expect(response.status, String(status)).toBe(502);
      const { error } = await json(response);
      expect(error.type).toBe('api_error');
      expect(error.message).toContain(`this deployment's ${what}`);
    }
  });

  it('answers 502 invalid_request_error, once, saying how long, when Claude refuses the prompt a turn built (too long for it), as README says', async () => {
    const response = await stack.chat('refused', {
      message: `go ${directive('fault=error-before status=400 prompt-tokens=215000 key=too-long')}`,
    });
    expect(response.status).toBe(502);
    expect((await json(response)).error).toEqual({
      type: 'invalid_request_error',
      message:
        "the model rejected the request: the prompt is 215000 tokens, more than the model's 200000",
    });
    const calls = requestsMentioning(stack.claude, 'too-long');
    expect(calls).toHaveLength(1);
  });

  it('asks again without the oldest history, and answers, when Claude counts the prompt past its context window', async () => {
    // CJK text: ~1 token a character to Claude, 3 bytes (0.75 estimated tokens) to us.
    const earlier = (n: number) => `turn ${n} ${'字'.repeat(300)} ${directive('tokens=3')}`;
    const first = await collectSse(await stack.chat('overflowing', { message: earlier(1) }));
    const conversationId = String(first[0]!.data.conversationId);
    for (const n of [2, 3]) {
      await collectSse(await stack.chat('overflowing', { conversationId, message: earlier(n) }));
    }
    const key = `overflow-${Date.now()}`;

    const events = await collectSse(
      await stack.chat('overflowing', {
        conversationId,
        message: `newest ${directive(`fault=error-before status=400 prompt-tokens=215000 times=1 key=${key}`)}`,
      }),
    );

    expect(events.at(-1)?.event).toBe('done');
    const [refused, asked] = stack.claude.requests
      .filter((r) => bodyText(r).includes(key))
      .map((r) => (r.body as { messages: Array<{ role: string }> }).messages);
    expect(refused).toHaveLength(7);
    expect(asked!.length).toBeLessThan(7);
    expect(asked![0]!.role).toBe('user');
    expect(asked).toEqual(refused!.slice(refused!.length - asked!.length));
    // Left out of the call, not of the conversation.
    const history = await json(
      await stack.request('overflowing', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(history.messages).toHaveLength(8);
    expect(history.messages.at(-1)).toMatchObject({ role: 'assistant', stopReason: 'end_turn' });
  });

  it('answers with a JSON error, and keeps the question, when no model can answer', async () => {
    const response = await stack.chat('down', {
      message: `go ${directive('fault=error-before status=500')}`,
    });
    expect(response.status).toBe(503);
    expect((await json(response)).error.type).toBe('api_error');
    const list = await json(await stack.request('down', 'GET', '/v1/conversations'));
    const conversation = await json(
      await stack.request('down', 'GET', `/v1/conversations/${list.conversations[0].id}`),
    );
    expect(
      conversation.messages.map((m: { role: string; stopReason?: string }) => [
        m.role,
        m.stopReason,
      ]),
    ).toEqual([
      ['user', undefined],
      ['assistant', 'error'],
    ]);
  });
});

describe('the wait for the first byte', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { FIRST_BYTE_TIMEOUT_MS: '1500', MAX_RETRY_WAIT_MS: '2000', MODEL_MAX_RETRIES: '2' },
    });
  });
  afterAll(() => stack.close());

  it('answers a retry-after longer than the cap at once, passing it on, with one upstream call', async () => {
    const started = Date.now();
    const response = await stack.chat('patient', {
      message: `go ${directive('fault=error-before status=429 retry-after=120 key=long-wait')}`,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('120');
    expect((await json(response)).error.type).toBe('rate_limit_error');
    const calls = requestsMentioning(stack.claude, 'long-wait');
    expect(calls).toHaveLength(1);
    const list = await json(await stack.request('patient', 'GET', '/v1/conversations'));
    const kept = await json(
      await stack.request('patient', 'GET', `/v1/conversations/${list.conversations[0].id}`),
    );
    expect(kept.messages).toMatchObject([
      { role: 'user' },
      { role: 'assistant', content: '', stopReason: 'error' },
    ]);
  });

  it('ends a wait for an upstream that never answers within the budget, and frees the conversation', async () => {
    const first = await collectSse(await stack.chat('waiter', { message: 'hello' }));
    const conversationId = String(first[0]!.data.conversationId);
    const started = Date.now();

    const response = await stack.chat('waiter', {
      conversationId,
      message: `go ${directive('fault=hang')}`,
    });

    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1_400);
    expect(waited).toBeLessThan(3_000);
    expect(response.status).toBe(503);
    expect((await json(response)).error.type).toBe('timeout_error');
    // The conversation is free again at once: no 409 for the rest of a lease.
    const next = await collectSse(await stack.chat('waiter', { conversationId, message: 'again' }));
    expect(next.at(-1)?.event).toBe('done');
    expect(await storedAnswer(stack, 'waiter', conversationId)).toMatchObject({
      stopReason: 'end_turn',
    });
  });
});
