import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { nanoToUsd } from '../../shared/domain/pricing/model-price.js';
import type { BudgetThresholdEvent } from '../../shared/events/producer-events.js';
import { createApiKey } from './support/api-keys.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * Budget events as a producer's finance alert would take them: a subscription filtered on
 * `type: budget.threshold`, fed by the maintenance sweep from what chat turns spent.
 */
describe('budget threshold events', () => {
  let stack: TestStack;
  let events: TopicSubscriber;
  beforeAll(async () => {
    stack = await startTestStack();
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `budget-events-${randomUUID().slice(0, 8)}`,
      filterPolicy: { type: ['budget.threshold'] },
    });
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  const setBudget = async (principal: string, monthlyBudgetUsd: number) => {
    const response = await fetch(`${stack.url}/v1/admin/principals/${principal}/budget`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ monthlyBudgetUsd }),
    });
    expect(response.status).toBe(200);
  };
  /** Reads what is delivered for two seconds. */
  const drain = () => events.waitFor(() => false, { timeoutMs: 2_000 }).catch(() => {});
  const thresholdsOf = (userId: string) =>
    events.seen
      .map((delivery) => delivery.event as BudgetThresholdEvent)
      .filter((event) => event.userId === userId)
      .map((event) => event.percent);

  it("publishes a principal's 50, 80 and 100% once each, as the sweep finds them crossed", async () => {
    const userId = `spender-${randomUUID().slice(0, 8)}`;
    const done = (
      await collectSse(await stack.chat(userId, { message: 'What does it cost?' }))
    ).find((event) => event.event === 'done')?.data as { costUsd: number };
    expect(done.costUsd).toBeGreaterThan(0);
    const spentUsd = done.costUsd;

    // 62% of the month's budget spent.
    await setBudget(userId, spentUsd / 0.62);
    await stack.sweep();
    const { event, attributes } = await events.waitFor<BudgetThresholdEvent>(
      (e) => e.userId === userId,
      { timeoutMs: 10_000 },
    );
    expect(attributes).toEqual({ type: 'budget.threshold', scope: 'principal', userId });
    expect(event).toMatchObject({
      version: 1,
      scope: 'principal',
      userId,
      percent: 50,
      month: new Date().toISOString().slice(0, 7),
      spentUsd,
    });
    expect(event.budgetUsd).toBeCloseTo(spentUsd / 0.62, 9);

    // 105%: 80 and 100 are crossed now; 50 is not sent again.
    await setBudget(userId, spentUsd / 1.05);
    await stack.sweep();
    await events.waitFor<BudgetThresholdEvent>((e) => e.userId === userId && e.percent === 100, {
      timeoutMs: 10_000,
    });
    await stack.sweep();
    await drain();
    expect(thresholdsOf(userId)).toEqual([50, 80, 100]);
  });

  it("publishes an API key's thresholds against its own budget, naming the key and its principal", async () => {
    const principal = `team-${randomUUID().slice(0, 8)}`;
    const budgetUsd = 0.005;
    const { id, key } = await createApiKey(stack, { principal, monthlyBudgetUsd: budgetUsd });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    // Spends until the key's budget refuses a call's worst case (~$0.0016): over half is spent.
    for (let i = 0; i < 40; i++) {
      const refused = await client.messages
        .create({
          model: 'claude-sonnet-4-6',
          max_tokens: 100,
          messages: [{ role: 'user', content: `spend ${i} [[local-claude: tokens=30]]` }],
        })
        .then(
          () => false,
          (error: unknown) => {
            if (error instanceof Anthropic.PaymentRequiredError) return true;
            throw error;
          },
        );
      if (refused) break;
    }
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const spentUsd = nanoToUsd((await ledger.keyMonth(id, monthOf(Date.now()))).spentNanoUsd);
    const crossed = [50, 80, 100].filter((percent) => spentUsd * 100 >= budgetUsd * percent);
    expect(crossed[0]).toBe(50);

    await stack.sweep();
    const { event, attributes } = await events.waitFor<BudgetThresholdEvent>(
      (e) => e.keyId === id && e.percent === crossed.at(-1),
      { timeoutMs: 10_000 },
    );
    expect(attributes).toEqual({
      type: 'budget.threshold',
      scope: 'key',
      userId: principal,
      keyId: id,
    });
    expect(event).toMatchObject({ version: 1, scope: 'key', keyId: id, userId: principal });
    expect(event).toMatchObject({ spentUsd, budgetUsd, month: monthOf(Date.now()) });
    await stack.sweep();
    await drain();
    const ofKey = events.seen
      .map((delivery) => delivery.event as BudgetThresholdEvent)
      .filter((e) => e.keyId === id);
    expect(ofKey.map((e) => e.percent)).toEqual(crossed);
    // The principal's own budget is far from half spent: only the key's events name them.
    const ofPrincipal = events.seen
      .map((delivery) => delivery.event as BudgetThresholdEvent)
      .filter((e) => e.userId === principal);
    expect(ofPrincipal.map((e) => [e.scope, e.percent])).toEqual(crossed.map((p) => ['key', p]));
  });

  it('sends nothing for a principal under half their budget, nor for the deployment', async () => {
    const userId = `saver-${randomUUID().slice(0, 8)}`;
    await (await stack.chat(userId, { message: 'Just one question' })).text();
    const usage = await json(await stack.request(userId, 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeGreaterThan(0);

    await stack.sweep();
    await drain();

    expect(thresholdsOf(userId)).toEqual([]);
    expect(
      events.seen.filter((d) => (d.event as BudgetThresholdEvent).scope === 'deployment'),
    ).toEqual([]);
  });
});
