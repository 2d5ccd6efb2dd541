import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import type { BudgetThresholdEvent } from '../../shared/events/producer-events.js';
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
