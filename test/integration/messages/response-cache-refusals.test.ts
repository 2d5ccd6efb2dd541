import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { APICallError, generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { createApiKey } from '../support/api-keys.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';
const USER_REQUESTS_PER_MINUTE = 6;

/**
 * A response-cache hit is free, but refused as the call would be: an operator who set a
 * principal's or a key's budget to 0 (or below what it spent), or whose rate limit it reached,
 * expects it to get nothing more, cached or not.
 */
describe('/v1/messages response-cache hits refused as calls', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        RESPONSE_CACHE_TTL_SECONDS: '300',
        USER_REQUESTS_PER_MINUTE: String(USER_REQUESTS_PER_MINUTE),
      },
    });
  });
  afterAll(() => stack.close());

  const params = (text: string) => ({
    model: MODEL,
    max_tokens: 40,
    messages: [{ role: 'user' as const, content: `${text} [[local-claude: tokens=8]]` }],
  });
  const sdk = (key: string) => new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });

  async function admin(method: string, path: string, body: unknown): Promise<void> {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }
  const setPrincipalBudget = (principal: string, monthlyBudgetUsd: number) =>
    admin('PUT', `/v1/admin/principals/${principal}/budget`, { monthlyBudgetUsd });

  /** A streamed and a whole answer, each cached by a first call, then asked for again. */
  async function cachedThenAskedAgain(key: string, text: string, block: () => Promise<void>) {
    const client = sdk(key);
    const whole = params(`${text} whole`);
    const streamed = params(`${text} streamed`);
    await client.messages.create(whole);
    await client.messages.stream(streamed).finalMessage();
    const cached = await client.messages.create(whole).withResponse();
    const cachedStream = await client.messages.stream(streamed).withResponse();
    await cachedStream.data.finalMessage();
    expect(cached.response.headers.get('x-cache')).toBe('hit');
    expect(cachedStream.response.headers.get('x-cache')).toBe('hit');
    await block();
    const upstreamCalls = stack.claude.requests.length;

    const refusals = await Promise.all([
      client.messages.create(whole).catch((error: unknown) => error),
      client.messages
        .stream(streamed)
        .finalMessage()
        .catch((error: unknown) => error),
    ]);

    expect(stack.claude.requests.length).toBe(upstreamCalls);
    return refusals;
  }

  it('refuses a hit to a principal whose budget was set to 0, and holds nothing for it', async () => {
    const { key } = await createApiKey(stack, { principal: 'cut-off' });

    const refusals = await cachedThenAskedAgain(key, 'zeroed', () =>
      setPrincipalBudget('cut-off', 0),
    );

    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(Anthropic.PaymentRequiredError);
      expect((refusal as APIError).message).toMatch(/budget/);
    }
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const held = await ledger.listReservations();
    expect(held.filter((reservation) => reservation.userId === 'cut-off')).toEqual([]);
  });

  it('refuses a hit to a principal whose budget was lowered below what it spent', async () => {
    const { key } = await createApiKey(stack, { principal: 'overspent' });

    const refusals = await cachedThenAskedAgain(key, 'lowered', () =>
      setPrincipalBudget('overspent', 0.000001),
    );

    for (const refusal of refusals) expect(refusal).toBeInstanceOf(Anthropic.PaymentRequiredError);
  });

  it('refuses a hit to a key whose budget was lowered below what it spent', async () => {
    const { id, key } = await createApiKey(stack, {
      principal: 'key-holder',
      monthlyBudgetUsd: 1,
    });

    const refusals = await cachedThenAskedAgain(key, 'key budget', () =>
      admin('PATCH', `/v1/admin/keys/${id}`, { monthlyBudgetUsd: 0.000001 }),
    );

    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(Anthropic.PaymentRequiredError);
      expect((refusal as APIError).message).toMatch(/key/);
    }
    // Another key of the same principal is not refused by this key's budget.
    const { key: other } = await createApiKey(stack, { principal: 'key-holder' });
    const replayed = await sdk(other).messages.create(params('key budget whole')).withResponse();
    expect(replayed.response.headers.get('x-cache')).toBe('hit');
  });

  it('counts a hit in no window and holds nothing for it, but refuses one to a key at its rate limit', async () => {
    await awayFromMinuteEnd();
    const { key } = await createApiKey(stack, { principal: 'key-rated', requestsPerMinute: 2 });
    const client = sdk(key);
    await client.messages.create(params('rated first'));
    for (let i = 0; i < 3; i++) {
      const hit = await client.messages.create(params('rated first')).withResponse();
      expect(hit.response.headers.get('x-cache')).toBe('hit');
    }
    await client.messages.create(params('rated second'));

    const refusal = await client.messages.create(params('rated first')).catch((e: unknown) => e);

    expect(refusal).toBeInstanceOf(Anthropic.RateLimitError);
    // The hits admitted held nothing once answered.
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const held = await ledger.listReservations();
    expect(held.filter((reservation) => reservation.userId === 'key-rated')).toEqual([]);
  });

  it('refuses a hit to a user at its rate limit', async () => {
    await awayFromMinuteEnd();
    const client = new Anthropic({
      baseURL: stack.url,
      authToken: await stack.token('user-rated'),
      maxRetries: 0,
    });
    for (let i = 0; i < USER_REQUESTS_PER_MINUTE; i++) {
      await client.messages.create(params(`user rated ${i}`));
    }

    const refusal = await client.messages.create(params('user rated 0')).catch((e: unknown) => e);

    expect(refusal).toBeInstanceOf(Anthropic.RateLimitError);
    expect((refusal as APIError).headers?.get('retry-after')).toMatch(/^\d+$/);
  });

  it('refuses a hit through the AI SDK to a principal whose budget was set to 0', async () => {
    const { key } = await createApiKey(stack, { principal: 'ai-cut-off' });
    const anthropic = createAnthropic({ baseURL: `${stack.url}/v1`, apiKey: key });
    const ask = { model: anthropic(MODEL), prompt: 'AI SDK [[local-claude: tokens=5]]' };
    const made = await generateText({ ...ask, maxOutputTokens: 40, maxRetries: 0 });
    const streamedParts: unknown[] = [];
    const streamed = streamText({
      ...ask,
      maxOutputTokens: 41,
      maxRetries: 0,
      onError: ({ error }) => {
        streamedParts.push(error);
      },
    });
    await streamed.consumeStream();
    const replayed = await generateText({ ...ask, maxOutputTokens: 40, maxRetries: 0 });
    const replayedStream = streamText({ ...ask, maxOutputTokens: 41, maxRetries: 0 });
    await replayedStream.consumeStream();
    expect(replayed.text).toBe(made.text);
    expect(replayed.response.headers?.['x-cache']).toBe('hit');
    expect((await replayedStream.response).headers?.['x-cache']).toBe('hit');
    await setPrincipalBudget('ai-cut-off', 0);
    const upstreamCalls = stack.claude.requests.length;

    const refused = await generateText({ ...ask, maxOutputTokens: 40, maxRetries: 0 }).catch(
      (error: unknown) => error,
    );
    const refusedStream = streamText({
      ...ask,
      maxOutputTokens: 41,
      maxRetries: 0,
      onError: ({ error }) => {
        streamedParts.push(error);
      },
    });
    await refusedStream.consumeStream();

    expect(APICallError.isInstance(refused)).toBe(true);
    expect((refused as APICallError).statusCode).toBe(402);
    expect(streamedParts).toHaveLength(1);
    expect((streamedParts[0] as APICallError).statusCode).toBe(402);
    expect(stack.claude.requests.length).toBe(upstreamCalls);
  });

  it('refuses the replay of a first chat question to a principal whose budget was set to 0', async () => {
    const body = { message: 'A chat question kept in the cache [[local-claude: tokens=7]]' };
    await (await stack.chat('chat-cut-off', body)).text();
    const replayed = await stack.chat('chat-cut-off', body);
    await replayed.text();
    expect(replayed.headers.get('x-cache')).toBe('hit');
    await setPrincipalBudget('chat-cut-off', 0);
    const upstreamCalls = stack.claude.requests.length;

    const refused = await stack.chat('chat-cut-off', body);

    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ error: { type: 'billing_error' } });
    expect(stack.claude.requests.length).toBe(upstreamCalls);
  });
});
