import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { withThrottledMethod } from './support/throttled-method.js';

/**
 * `CostUsd`, as the chat function publishes it (EMF on stdout), is what the daily spend alarm
 * and the dashboard's spend read: every nano-dollar the ledger records must be in it.
 */
describe('the CostUsd metric', () => {
  let stack: TestStack;
  const failing = { on: false };
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({
      customizeChat: (adapters) => ({
        ...adapters,
        // Late, as a throttled write is: the model call of a new conversation has begun.
        store: withThrottledMethod(adapters.store, 'beginTurn', failing, { delayMs: 1_000 }),
      }),
    });
  });
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  it('counts what a model call cost whose question could not be stored (it was billed, not published)', async () => {
    // The month's budgets set up by a first turn: admission is quick, and the model call
    // has begun when the question's write fails.
    await (await stack.chat('unstored', { message: 'hi [[local-claude: tokens=1]]' })).text();
    failing.on = true;
    const response = await stack.chat('unstored', { message: 'hello [[local-claude: tps=20]]' });
    failing.on = false;
    expect(response.status).toBeGreaterThanOrEqual(500);
    await response.body?.cancel();
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const spentNanoUsd = (await ledger.userMonth('unstored', monthOf(Date.now()))).spentNanoUsd;
    expect(spentNanoUsd).toBeGreaterThan(0);

    await vi.waitFor(() => expect(published.length).toBeGreaterThan(0));
    const costUsd = published.reduce(
      (sum, line) => sum + (typeof line.CostUsd === 'number' ? line.CostUsd : 0),
      0,
    );
    expect(costUsd).toBeCloseTo(spentNanoUsd / 1e9, 12);
  });
});
