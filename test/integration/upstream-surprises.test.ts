import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

describe('an upstream that answers in ways the request did not foresee', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: { USER_MONTHLY_BUDGET_USD: '0.01', MAX_OUTPUT_TOKENS: '100' },
    });
  });
  afterAll(() => stack.close());

  it('prices an answer that names another model as the model asked for, and records both', async () => {
    const events = await collectSse(
      await stack.chat('proxied', {
        message: `hi ${directive('answer-model=anthropic/claude-sonnet-4-6')}`,
      }),
    );
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.costUsd).toBeGreaterThan(0);
    expect(events[0]!.data.model).toBe('claude-sonnet-4-6');

    const conversation = await json(
      await stack.request('proxied', 'GET', `/v1/conversations/${events[0]!.data.conversationId}`),
    );
    expect(conversation.messages[1]).toMatchObject({ model: 'claude-sonnet-4-6' });
    const usage = await json(await stack.request('proxied', 'GET', '/v1/usage'));
    expect(usage).toMatchObject({ requests: 1, costUsd: done.data.costUsd });
  });

  it('summarizes a job whose answer names another model, once, at the price asked for', async () => {
    // A summary may cost more than the $0.01 the other users get.
    await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000).setUserBudgetOverride(
      'proxied-job',
      5,
      Date.now(),
    );
    const queued = await json(
      await stack.request('proxied-job', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `A memo. ${directive('answer-model=claude-sonnet-4-6-20260101')}`,
      }),
    );
    let job: { status: string; costUsd?: number } = { status: 'queued' };
    for (let i = 0; i < 100 && ['queued', 'running'].includes(job.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await json(await stack.request('proxied-job', 'GET', `/v1/jobs/${queued.jobId}`));
    }
    expect(job).toMatchObject({ status: 'succeeded', costUsd: expect.any(Number) });
    expect(job.costUsd).toBeGreaterThan(0);
  });

  it('records an answer that costs more than its reservation, then refuses the user until back under budget', async () => {
    // 20,000 input tokens at $3 per million is $0.06, six times the $0.01 budget.
    const events = await collectSse(
      await stack.chat('overrun', { message: `hi ${directive('input-tokens=20000')}` }),
    );
    expect(events.at(-1)?.event).toBe('done');
    const usage = await json(await stack.request('overrun', 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeGreaterThan(0.06);
    expect(usage.remainingUsd).toBe(0);

    const before = stack.claude.requests.length;
    const next = await stack.chat('overrun', { message: 'one more' });
    expect(next.status).toBe(402);
    expect(stack.claude.requests.length).toBe(before);
  });
});
