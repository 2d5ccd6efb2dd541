import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { MAX_OUTPUT_TOKENS_PER_SECOND } from '../../../shared/domain/tokens.js';
import { usageFromWire } from '../../../shared/gateway/wire-usage.js';
import { createApiKey } from '../support/api-keys.js';
import { requestsMentioning } from '../support/claude-requests.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';
const MODEL_MAX_RETRIES = 1;
const prices = new PriceTable();
const month = () => monthOf(Date.now());
const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * /v1/messages calls (streamed, and whole) that the Anthropic API fails at each phase of the answer, read
 * by the official SDK and the AI SDK: what the caller sees, and that the ledger bills what
 * upstream billed, once, as the usage records say, with nothing left held.
 */
describe('/v1/messages calls the upstream fails', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;

  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        MODEL_MAX_RETRIES: String(MODEL_MAX_RETRIES),
        MESSAGES_STREAM_IDLE_TIMEOUT_MS: '1000',
      },
    });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack.close());

  const sdk = async (principal: string) =>
    new Anthropic({ baseURL: stack.url, apiKey: await stack.token(principal), maxRetries: 0 });
  const ask = (text: string) => ({
    model: MODEL,
    max_tokens: 50,
    messages: [{ role: 'user' as const, content: text }],
  });
  const upstreamCalls = (marker: string) => requestsMentioning(stack.claude, marker);
  /** The principal's month once its call has settled (the settle follows the stream's last event). */
  const settledMonth = async (principal: string) => {
    let usage = await ledger.userMonth(principal, month());
    for (let i = 0; i < 50 && usage.heldNanoUsd !== usage.spentNanoUsd; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      usage = await ledger.userMonth(principal, month());
    }
    return usage;
  };
  const reportRow = async (principal: string) =>
    (
      await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(month(), {
        top: 1000,
      })
    ).byPrincipal.find((row) => row.name === principal);
  /** The principal's row once the call's usage is recorded (it is, after the settle). */
  const recordedRow = async (principal: string) => {
    await expect.poll(() => reportRow(principal)).toBeDefined();
    return reportRow(principal);
  };

  it("has the caller's SDK retry an overload sent as a stream's first event (answered as a 529), and bills only the answer", async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('shed-once'),
      maxRetries: 1,
    });
    const stream = client.messages.stream(
      ask(`hi ${directive('fault=error-first times=1 key=shed-once')}`),
    );

    const message = await stream.finalMessage();

    expect(message.stop_reason).toBe('end_turn');
    expect(upstreamCalls('key=shed-once')).toHaveLength(2);
    const usage = await settledMonth('shed-once');
    expect(usage).toMatchObject({
      requests: 1,
      spentNanoUsd: prices.costNanoUsd(MODEL, usageFromWire(message.usage)),
    });
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });

  it('bills nothing for a stream the API refused with its first event, before message_start, once the retries are spent', async () => {
    const stream = (await sdk('shed-sdk')).messages.stream(
      ask(`hi ${directive('fault=error-first key=shed-sdk')}`),
    );
    stream.on('error', () => {});
    const anthropic = createAnthropic({
      baseURL: `${stack.url}/v1`,
      apiKey: await stack.token('shed-ai-sdk'),
    });
    const aiErrors: unknown[] = [];

    const sdkError = await stream.finalMessage().then(
      () => undefined,
      (error: unknown) => error,
    );
    const aiStream = streamText({
      model: anthropic(MODEL),
      prompt: `hi ${directive('fault=error-first key=shed-ai-sdk')}`,
      maxOutputTokens: 50,
      onError: ({ error }) => {
        aiErrors.push(error);
      },
    });
    for await (const _ of aiStream.fullStream) {
      // read to the end
    }

    // Not retried here for a caller that retries itself: the 529 its SDK would retry.
    expect(sdkError).toBeInstanceOf(Anthropic.APIError);
    expect(sdkError).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(aiErrors.length).toBeGreaterThan(0);
    for (const principal of ['shed-sdk', 'shed-ai-sdk']) {
      expect(await ledger.userMonth(principal, month()), principal).toMatchObject({
        requests: 0,
        spentNanoUsd: 0,
        heldNanoUsd: 0,
        inputTokens: 0,
      });
      expect(await reportRow(principal), principal).toBeUndefined();
    }
    expect(await ledger.listReservations()).toEqual([]);
    // The SDK's maxRetries: 0, and the AI SDK's default 2.
    expect(upstreamCalls('key=shed-sdk')).toHaveLength(1);
    expect(upstreamCalls('key=shed-ai-sdk')).toHaveLength(3);
  });

  it("leaves none of the key's rate used by calls the API refused before answering", async () => {
    const { key } = await createApiKey(stack, { principal: 'refused-rate', requestsPerMinute: 2 });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    await awayFromMinuteEnd();
    for (const fault of ['fault=error-first', 'fault=error-before status=529']) {
      const stream = client.messages.stream(ask(`hi ${directive(fault)}`));
      stream.on('error', () => {});
      await expect(stream.finalMessage()).rejects.toMatchObject({ type: 'overloaded_error' });
    }

    const answered = await client.messages
      .create(ask(`hi ${directive('tokens=3')}`))
      .withResponse();

    expect(answered.data.stop_reason).toBe('end_turn');
    expect(answered.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
  });

  it.each([
    ['an error event mid-answer', 'fault=error-mid after=2', 'overloaded_error'],
    ['a dropped connection mid-answer', 'fault=drop after=2', 'api_error'],
    ['a stream that ends without message_stop', 'fault=end after=2', 'api_error'],
    ['a stall mid-answer', 'fault=stall after=2', 'timeout_error'],
    ['a stall before message_start', 'ttft=5000', 'timeout_error'],
  ])('bills %s as the usage records say, once, with nothing left held', async (_, fault, type) => {
    const principal = `broken-${fault.replace(/\W+/g, '-')}`;
    const stream = (await sdk(principal)).messages.stream(ask(`hi ${directive(fault)}`));
    stream.on('error', () => {});

    const error = await stream.finalMessage().then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect((error as APIError).type).toBe(type);
    const usage = await settledMonth(principal);
    expect(usage.requests).toBe(1);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
    expect(await recordedRow(principal)).toMatchObject({
      requests: 1,
      costNanoUsd: usage.spentNanoUsd,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheReadInputTokens: usage.cacheReadInputTokens,
      cacheCreationInputTokens: usage.cacheCreationInputTokens,
    });
  });

  it('bills a stream broken mid-thought as much as it can have thought in the time it ran, not all of max_tokens', async () => {
    const principal = 'broken-mid-thought';
    const sentAt = Date.now();
    const stream = (await sdk(principal)).messages.stream({
      model: MODEL,
      max_tokens: 30_000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        {
          role: 'user',
          content: `hi ${directive('fault=error-mid after=3 type=overloaded_error')}`,
        },
      ],
    });
    stream.on('error', () => {});

    const error = await stream.finalMessage().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const ranMs = Date.now() - sentAt;

    expect((error as APIError).type).toBe('overloaded_error');
    const usage = await settledMonth(principal);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeLessThanOrEqual(
      Math.ceil((ranMs / 1000) * MAX_OUTPUT_TOKENS_PER_SECOND),
    );
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });

  it.each([
    ['not JSON', 'fault=garble', 'unreadable'],
    ['broken off while read', 'fault=cut', 'cut-whole'],
  ])(
    'answers a whole answer %s with 503, not a 500 of ours, billed as written to max_tokens',
    async (_, fault, principal) => {
      const error = await (await sdk(principal)).messages
        .create(ask(`hi ${directive(fault)}`))
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );

      expect(error).toBeInstanceOf(Anthropic.InternalServerError);
      expect(error).toMatchObject({ status: 503, type: 'api_error' });
      const usage = await settledMonth(principal);
      expect(usage).toMatchObject({ requests: 1, outputTokens: 50 });
      expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
      expect((await recordedRow(principal))?.costNanoUsd).toBe(usage.spentNanoUsd);
    },
  );

  it('bills a whole answer whose connection broke as it was awaited as far as it can have been written, each attempt, and has no caller send it again', async () => {
    // Written upstream for 0.5 s, then the connection is lost: nothing of it reaches the gateway.
    const question = (marker: string) =>
      JSON.stringify({
        model: MODEL,
        max_tokens: 400,
        messages: [
          { role: 'user', content: `${marker} ${directive('tokens=300 tps=600 fault=drop')}` },
        ],
      });
    const plain = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('broken-plain')}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: question('broken plain'),
    });
    const viaSdk = await (await sdk('broken-sdk')).messages
      .create(JSON.parse(question('broken sdk')))
      .then(
        () => undefined,
        (caught: unknown) => caught as APIError,
      );

    expect(plain.status).toBe(503);
    expect(plain.headers.get('x-should-retry')).toBe('false');
    const refused = (await plain.json()) as { error: { message: string } };
    expect(refused.error.message).toMatch(/broke while it wrote a whole answer/);
    expect(viaSdk?.status).toBe(503);
    expect(viaSdk?.headers?.get('x-should-retry')).toBe('false');
    // Sent again by the gateway for a caller that does not retry, once for the SDK, which does.
    expect(upstreamCalls('broken plain')).toHaveLength(1 + MODEL_MAX_RETRIES);
    expect(upstreamCalls('broken sdk')).toHaveLength(1);
    for (const [principal, attempts] of [
      ['broken-plain', 1 + MODEL_MAX_RETRIES],
      ['broken-sdk', 1],
    ] as const) {
      const usage = await settledMonth(principal);
      // Each attempt ran at least 0.5 s: at 1,000 tokens a second, all of max_tokens.
      expect(usage).toMatchObject({ requests: 1, outputTokens: 400 * attempts });
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect((await recordedRow(principal))?.costNanoUsd).toBe(usage.spentNanoUsd);
    }
  });

  it.each([
    'fault=error-mid after=2',
    'fault=drop after=2',
    'fault=end after=2',
    'fault=stall after=2',
  ])("ends the AI SDK's streamText in an error, never a finished answer, on %s", async (fault) => {
    const principal = `ai-${fault.replace(/\W+/g, '-')}`;
    const anthropic = createAnthropic({
      baseURL: `${stack.url}/v1`,
      apiKey: await stack.token(principal),
    });
    const parts: string[] = [];

    const result = streamText({
      model: anthropic(MODEL),
      prompt: `hi ${directive(fault)}`,
      maxOutputTokens: 50,
      onError: () => {},
    });
    for await (const part of result.fullStream) parts.push(part.type);

    expect(parts).toContain('error');
    expect(await result.finishReason).toBe('error');
    const usage = await settledMonth(principal);
    expect(usage.requests).toBe(1);
    expect((await recordedRow(principal))?.costNanoUsd).toBe(usage.spentNanoUsd);
  });
});

describe('GET /v1/models when the Anthropic API fails its listing', () => {
  let upstream: Server;
  let listings = 0;
  let stack: TestStack;

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      if (request.url?.startsWith('/v1/models')) listings++;
      response.writeHead(529, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded' },
        }),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    stack = await startTestStack({
      anthropicBaseUrl: `http://127.0.0.1:${port}`,
      env: { MODEL_MAX_RETRIES: String(MODEL_MAX_RETRIES) },
    });
  });
  afterAll(async () => {
    await stack?.close();
    upstream?.close();
  });

  it('retries it as often as modelMaxRetries says, as every other model call (it was the SDK default, 2)', async () => {
    const response = await stack.request('model-lister', 'GET', '/v1/models');

    expect(response.status).toBe(529);
    expect(listings).toBe(1 + MODEL_MAX_RETRIES);
  });
});
