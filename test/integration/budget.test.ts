import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { BudgetExceededError } from '../../shared/domain/errors.js';
import { usdToNano } from '../../shared/domain/pricing/model-price.js';
import { ZERO_USAGE } from '../../shared/domain/usage.js';
import { apiRequests } from './support/claude-requests.js';
import { collectSse, json, readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { awayFromMinuteEnd } from './support/wall-clock-windows.js';

const USER_BUDGET_USD = 0.01;

describe('budgets under concurrency', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 100 },
      env: { USER_MONTHLY_BUDGET_USD: String(USER_BUDGET_USD), MAX_OUTPUT_TOKENS: '200' },
    });
  });
  afterAll(() => stack.close());

  it('never records more spend than the budget, and accounts for every admitted request', async () => {
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        stack.chat('spender', { message: `request number ${i}` }),
      ),
    );
    const admitted = responses.filter((r) => r.status === 200);
    const rejected = responses.filter((r) => r.status === 402);
    expect(admitted.length + rejected.length).toBe(responses.length);
    expect(admitted.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);
    for (const response of rejected) {
      expect((await json(response)).error.type).toBe('billing_error');
    }

    const streamed = await Promise.all(admitted.map(collectSse));
    const costs = streamed.map((events) => Number(events.at(-1)!.data.costUsd));
    const usage = await json(await stack.request('spender', 'GET', '/v1/usage'));
    expect(usage.requests).toBe(admitted.length);
    expect(usage.costUsd).toBeCloseTo(
      costs.reduce((a, b) => a + b, 0),
      12,
    );
    expect(usage.costUsd).toBeLessThanOrEqual(USER_BUDGET_USD);
    expect(usage.budgetUsd).toBe(USER_BUDGET_USD);
    // Nothing is left reserved once every admitted turn has settled.
    expect(usage.remainingUsd).toBeCloseTo(USER_BUDGET_USD - usage.costUsd, 12);
    expect(apiRequests(stack.claude)).toHaveLength(admitted.length);
  });

  it('rejects with 402 before any model call when the request cannot fit', async () => {
    const before = stack.claude.requests.length;
    const response = await stack.chat('big-spender', {
      message: 'x'.repeat(20_000),
      maxTokens: 200,
    });
    expect(response.status).toBe(402);
    expect((await json(response)).error).toMatchObject({ type: 'billing_error' });
    expect(stack.claude.requests.length).toBe(before);
  });
});

describe("the deployment's monthly budget", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { GLOBAL_MONTHLY_BUDGET_USD: '0.02' } });
  });
  afterAll(() => stack.close());

  it("refuses with 402 before any model call a call that fits its user's budget but not the deployment's", async () => {
    const fits = await collectSse(await stack.chat('first', { message: 'hi', maxTokens: 10 }));
    expect(fits.at(-1)?.event).toBe('done');
    const before = stack.claude.requests.length;

    const response = await stack.chat('second', { message: 'a long answer', maxTokens: 2_000 });
    expect(response.status).toBe(402);
    expect((await json(response)).error.type).toBe('billing_error');
    expect(stack.claude.requests.length).toBe(before);
    const usage = await json(await stack.request('second', 'GET', '/v1/usage'));
    expect(usage).toMatchObject({ requests: 0, costUsd: 0, remainingUsd: 10 });
  });
});

describe('GET /v1/usage', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ claude: { minCacheableTokens: 1 } });
  });
  afterAll(() => stack.close());

  it("reports the caller's month: tokens by kind, cost, budget and requests", async () => {
    const first = await collectSse(
      await stack.chat('counter', { message: 'one', system: 'Be brief.' }),
    );
    const second = await collectSse(
      await stack.chat('counter', {
        message: 'two',
        system: 'Be brief.',
        conversationId: first[0]!.data.conversationId,
      }),
    );
    const turns = [first, second].map(
      (events) => events.at(-1)!.data as { usage: Record<string, number>; costUsd: number },
    );
    const usage = await json(await stack.request('counter', 'GET', '/v1/usage'));
    expect(usage).toMatchObject({
      month: monthOf(Date.now()),
      requests: 2,
      budgetUsd: 10,
      inputTokens: turns[0]!.usage.inputTokens! + turns[1]!.usage.inputTokens!,
      outputTokens: turns[0]!.usage.outputTokens! + turns[1]!.usage.outputTokens!,
      cacheReadInputTokens: turns[1]!.usage.cacheReadInputTokens,
      cacheCreationInputTokens:
        turns[0]!.usage.cacheCreationInputTokens! + turns[1]!.usage.cacheCreationInputTokens!,
    });
    expect(usage.cacheReadInputTokens).toBeGreaterThan(0);
    expect(usage.costUsd).toBeCloseTo(turns[0]!.costUsd + turns[1]!.costUsd, 12);

    const other = await json(await stack.request('someone-else', 'GET', '/v1/usage'));
    expect(other).toMatchObject({ requests: 0, costUsd: 0, remainingUsd: 10 });
  });

  it('honours a per-user budget override stored in the table', async () => {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    await ledger.setUserBudgetOverride('vip', 250, Date.now());
    const usage = await json(await stack.request('vip', 'GET', '/v1/usage'));
    expect(usage.budgetUsd).toBe(250);

    await ledger.setUserBudgetOverride('capped', 0.000001, Date.now());
    const before = stack.claude.requests.length;
    const rejected = await stack.chat('capped', { message: 'hello' });
    expect(rejected.status).toBe(402);
    expect((await json(rejected)).error.type).toBe('billing_error');
    expect(stack.claude.requests.length).toBe(before);
  });
});

describe('rate limits', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { USER_REQUESTS_PER_MINUTE: '2' } });
  });
  afterAll(() => stack.close());

  it('answers past the per-minute request limit with 429 and retry-after, before any model call', async () => {
    await awayFromMinuteEnd();
    for (let i = 0; i < 2; i++) await collectSse(await stack.chat('hasty', { message: `hi ${i}` }));
    const before = stack.claude.requests.length;
    const response = await stack.chat('hasty', { message: 'one more' });
    expect(response.status).toBe(429);
    expect((await json(response)).error.type).toBe('rate_limit_error');
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(stack.claude.requests.length).toBe(before);
    // Another user has their own window.
    expect((await stack.chat('patient', { message: 'hi' })).status).toBe(200);
  });
});

describe('a refusal before any model call', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 20 },
      env: { USER_TOKENS_PER_MINUTE: '3000', MAX_OUTPUT_TOKENS: '2000' },
    });
  });
  afterAll(() => stack.close());

  const conversationsOf = async (userId: string) =>
    (await json(await stack.request(userId, 'GET', '/v1/conversations'))).conversations;

  it('answers past the per-minute token limit with 429 and stores nothing', async () => {
    await awayFromMinuteEnd();
    const earlier = await collectSse(await stack.chat('wordy', { message: 'hi', maxTokens: 5 }));
    const conversationId = String(earlier[0]!.data.conversationId);
    // A call in flight holds its prompt and max_tokens in the window until it is corrected.
    const inFlight = readSse(await stack.chat('wordy', { message: 'hello', maxTokens: 2_000 }));
    expect((await inFlight.next()).value?.event).toBe('start');
    const before = stack.claude.requests.length;

    for (const conversation of [{}, { conversationId }]) {
      const response = await stack.chat('wordy', {
        ...conversation,
        message: 'and more',
        maxTokens: 2_000,
      });
      expect(response.status).toBe(429);
      expect((await json(response)).error.type).toBe('rate_limit_error');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(stack.claude.requests.length).toBe(before);
    for await (const _ of inFlight);
    // Two conversations: the earlier one and the call in flight's; none of the refused.
    const conversations = (await conversationsOf('wordy')).map((c: { id: string }) => c.id);
    expect(conversations).toHaveLength(2);
    expect(conversations).toContain(conversationId);
    const history = await json(
      await stack.request('wordy', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(history.messages).toHaveLength(2);
  });

  it('answers a call that does not fit the month with 402 and stores nothing', async () => {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    await ledger.setUserBudgetOverride('thrifty', 0.02, Date.now());
    const first = await collectSse(await stack.chat('thrifty', { message: 'hi', maxTokens: 10 }));
    const conversationId = String(first[0]!.data.conversationId);
    const before = stack.claude.requests.length;

    for (const conversation of [{}, { conversationId }]) {
      const response = await stack.chat('thrifty', {
        ...conversation,
        message: 'a long answer, please',
        maxTokens: 2_000,
      });
      expect(response.status).toBe(402);
      expect((await json(response)).error.type).toBe('billing_error');
    }
    expect(stack.claude.requests.length).toBe(before);
    expect((await conversationsOf('thrifty')).map((c: { id: string }) => c.id)).toEqual([
      conversationId,
    ]);
    const history = await json(
      await stack.request('thrifty', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(history.messages).toHaveLength(2);
    const usage = await json(await stack.request('thrifty', 'GET', '/v1/usage'));
    expect(usage.requests).toBe(1);
    expect(usage.remainingUsd).toBeCloseTo(0.02 - usage.costUsd, 12);
  });
});

describe('the usage ledger on DynamoDB Local', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  it('reclaims a reservation whose caller crashed, once it expires', async () => {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const now = Date.now();
    const request = {
      userId: 'crasher',
      amountNanoUsd: usdToNano(0.6),
      userDefaultBudgetNanoUsd: usdToNano(1),
      globalBudgetNanoUsd: usdToNano(1000),
      nowMs: now,
    };
    await ledger.reserve({ ...request, expiresAtMs: now + 50 }); // never settled
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await ledger.reserve({
      ...request,
      nowMs: Date.now(),
      expiresAtMs: Date.now() + 60_000,
    });
    const month = await ledger.userMonth('crasher', monthOf(now));
    expect(month.heldNanoUsd).toBe(usdToNano(0.6));
    await ledger.settle(second, { usage: ZERO_USAGE, costNanoUsd: usdToNano(0.1) });
    const settled = await ledger.userMonth('crasher', monthOf(now));
    expect(settled).toMatchObject({
      spentNanoUsd: usdToNano(0.1),
      heldNanoUsd: usdToNano(0.1),
      requests: 1,
    });
  });

  it('records the spend of a call whose reservation expired and was reclaimed before it settled', async () => {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const now = Date.now();
    const reservation = await ledger.reserve({
      userId: 'slowpoke',
      amountNanoUsd: usdToNano(0.5),
      userDefaultBudgetNanoUsd: usdToNano(1),
      globalBudgetNanoUsd: usdToNano(1000),
      nowMs: now,
      expiresAtMs: now + 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ledger.reclaimExpired(Date.now())).toBeGreaterThanOrEqual(1);
    await ledger.settle(reservation, { usage: ZERO_USAGE, costNanoUsd: usdToNano(0.2) });
    expect(await ledger.userMonth('slowpoke', monthOf(now))).toMatchObject({
      spentNanoUsd: usdToNano(0.2),
      heldNanoUsd: usdToNano(0.2),
    });
  });

  it('holds the global budget across users, exactly', async () => {
    // A table of its own: the global shards must start empty.
    const fresh = await startTestStack();
    const ledger = new DynamoUsageLedger(fresh.documentClient, fresh.tableName, 5);
    onTestFinished(() => fresh.close());
    const attempt = (i: number) =>
      ledger.reserve({
        userId: `user-${i}`,
        amountNanoUsd: usdToNano(1),
        userDefaultBudgetNanoUsd: usdToNano(100),
        globalBudgetNanoUsd: usdToNano(5),
        nowMs: Date.now(),
        expiresAtMs: Date.now() + 60_000,
      });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => attempt(i)));
    const admitted = results.filter((r) => r.status === 'fulfilled');
    expect(admitted).toHaveLength(5);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BudgetExceededError);
    }
  });
});
