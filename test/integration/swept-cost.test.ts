import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { countedBy } from '../../shared/domain/settlement.js';
import { partitionOf } from './support/lost-answers.js';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { STARTED_USAGE, streamingTurn, TURN_MODEL } from './support/streaming-turns.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A turn's reservation expires at its deadline: here, soon after its answer is stored. */
const EXPIRES_AFTER_MS = 1_500;
const prices = new PriceTable();

/** The `CostUsd` of EMF lines (an array when one line carries several values). */
function costUsdOf(lines: ReadonlyArray<Record<string, unknown>>): number {
  return lines
    .flatMap((line) => (line.CostUsd === undefined ? [] : [line.CostUsd].flat()))
    .reduce((sum: number, value) => sum + Number(value), 0);
}

/**
 * `CostUsd`, summed over the functions that publish it (the daily spend alarm and the
 * dashboard's spend read that sum), must be what the ledger spent: an answer whose function
 * stored it and died before settling is settled by the maintenance sweep to the figures
 * stored with it, which the sweep publishes; a function that only stalled and settles late
 * is not counted twice. The state such a function leaves is written through the real adapters.
 */
describe('the CostUsd of answers stored and never settled by their function', () => {
  let stack: TestStack;
  let store: DynamoConversationStore;
  let ledger: DynamoUsageLedger;
  /** A chat function's ledger whose next update of a deployment's month item fails. */
  let throttledLedger: DynamoUsageLedger;
  let failNextGlobalUpdate = false;
  /** EMF lines this process writes: the in-process sweep's. */
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({ maintenanceEveryMs: 3_600_000 });
    store = new DynamoConversationStore(stack.documentClient, stack.tableName);
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const pk = partitionOf((args.input as { Key?: { pk?: unknown } }).Key?.pk);
        if (
          failNextGlobalUpdate &&
          context.commandName === 'UpdateItemCommand' &&
          pk?.startsWith('GLOBAL#USAGE#')
        ) {
          failNextGlobalUpdate = false;
          throw Object.assign(new Error('injected throttle'), {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleGlobalUpdate' },
    );
    throttledLedger = new DynamoUsageLedger(createDocumentClient(client), stack.tableName, 1000);
  });
  beforeEach(() => {
    published.length = 0;
    failNextGlobalUpdate = false;
  });
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  const spentNanoUsd = async (userId: string) =>
    (await ledger.userMonth(userId, monthOf(Date.now()))).spentNanoUsd;

  /** finish-turn.ts up to its settle: the answer stored, its figures on the reservation's entry. */
  async function storedAnswer(userId: string) {
    const startedAtMs = Date.now();
    const { conversationId, turnId, userSeq, reservation, text } = await streamingTurn(
      { store, ledger },
      userId,
      {
        startedAtMs,
        expiresAtMs: startedAtMs + EXPIRES_AFTER_MS,
        leaseUntilMs: startedAtMs + 20_000,
      },
    );
    const usage = { ...STARTED_USAGE, outputTokens: 15 };
    const costNanoUsd = prices.costNanoUsd(TURN_MODEL, usage);
    await store.finishTurn({
      userId,
      conversationId,
      turnId,
      userSeq,
      conversationCreatedAt: new Date(startedAtMs).toISOString(),
      answer: {
        id: turnId,
        content: text,
        model: TURN_MODEL,
        stopReason: 'end_turn',
        usage,
        usageEstimated: false,
        costNanoUsd,
        tokens: 15,
      },
      reservation,
      nowIso: new Date().toISOString(),
    });
    return { reservation, figures: { usage, costNanoUsd } };
  }

  const untilExpired = () => new Promise((resolve) => setTimeout(resolve, EXPIRES_AFTER_MS + 100));

  it('is published by the sweep that settles a stored answer to its figures, as much as the ledger spent', async () => {
    const { figures } = await storedAnswer('stored-died');
    await untilExpired();

    expect(await stack.sweep()).toMatchObject({ reclaimed: 1, failed: 0 });

    const spent = await spentNanoUsd('stored-died');
    expect(spent).toBe(figures.costNanoUsd);
    expect(published).toContainEqual(expect.objectContaining({ service: 'maintenance' }));
    expect(costUsdOf(published)).toBeCloseTo(spent / 1e9, 12);
  });

  it('counts once a function that had only stalled and settles after the sweep', async () => {
    const { reservation, figures } = await storedAnswer('stored-stalled');
    await untilExpired();
    await stack.sweep();

    // It wakes and settles its own figures: what it publishes is what its settle counts.
    const counted = await ledger.settle(reservation, figures);

    const spent = await spentNanoUsd('stored-stalled');
    expect(spent).toBe(figures.costNanoUsd);
    expect(costUsdOf(published) + counted.costNanoUsd / 1e9).toBeCloseTo(spent / 1e9, 12);
  });

  it('counts once a function that settles before the sweep comes', async () => {
    const { reservation, figures } = await storedAnswer('stored-settled');
    const counted = await ledger.settle(reservation, figures);
    await untilExpired();
    await stack.sweep();

    const spent = await spentNanoUsd('stored-settled');
    expect(spent).toBe(figures.costNanoUsd);
    expect(costUsdOf(published) + counted.costNanoUsd / 1e9).toBeCloseTo(spent / 1e9, 12);
  });

  it("counts once a settle that failed on the deployment's month, which the sweep finishes", async () => {
    const { reservation, figures } = await storedAnswer('stored-throttled');
    failNextGlobalUpdate = true;
    const [settled] = await Promise.allSettled([throttledLedger.settle(reservation, figures)]);
    expect(settled.status).toBe('rejected');
    await untilExpired();
    await stack.sweep();

    const spent = await spentNanoUsd('stored-throttled');
    expect(spent).toBe(figures.costNanoUsd);
    expect(await ledger.globalMonthSpendNanoUsd(monthOf(Date.now()))).toBeGreaterThanOrEqual(spent);
    // What the chat function publishes (admission.ts), and the sweep's.
    expect(costUsdOf(published) + countedBy(settled).costNanoUsd / 1e9).toBeCloseTo(
      spent / 1e9,
      12,
    );
  });
});
