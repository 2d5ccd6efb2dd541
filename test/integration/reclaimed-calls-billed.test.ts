import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../local-stack/function-env.js';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { ledgerKeys } from '../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../shared/domain/budget.js';
import { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { createTurnRecovery } from '../../shared/turns/recover-turn.js';
import { loseAnswers, partitionOf } from './support/lost-answers.js';
import { STARTED_USAGE, streamingTurn, sweepAt as sweepAtOf } from './support/streaming-turns.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const MONTH = monthOf(T0);
const prices = new PriceTable();

/**
 * A call whose hold a reclaim gave back before its figures were known is billed by a late
 * spend, once: made by its settle, or by the sweep when that settle failed, and never again
 * where the settle itself took the hold.
 */
describe('calls billed after a reclaim', () => {
  let client: DynamoDBClient;
  /** Partition-key prefixes whose next write (PutItem or TransactWriteItems) fails. */
  const failNextWriteOf: string[] = [];
  /** Partition keys whose next update (alone, or first in a transaction) fails. */
  const failNextUpdateOf = new Set<string>();
  let lostAnswers: ReturnType<typeof loseAnswers>;
  let tableName: string;
  let store: DynamoConversationStore;
  let ledger: DynamoUsageLedger;

  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          Key?: { pk?: unknown };
          Item?: { pk?: unknown };
          TransactItems?: Array<{ Update?: { Key?: { pk?: unknown } } }>;
        };
        const updated = partitionOf(input.Key?.pk ?? input.TransactItems?.[0]?.Update?.Key?.pk);
        const updating = ['UpdateItemCommand', 'TransactWriteItemsCommand'];
        if (updating.includes(String(context.commandName)) && failNextUpdateOf.delete(updated!)) {
          throw Object.assign(new Error('injected write failure'), { name: 'InternalServerError' });
        }
        const pk = partitionOf(input.Item?.pk ?? input.TransactItems?.[0]?.Update?.Key?.pk);
        const i = failNextWriteOf.findIndex((prefix) => pk?.startsWith(prefix));
        if (
          i >= 0 &&
          (context.commandName === 'PutItemCommand' ||
            context.commandName === 'TransactWriteItemsCommand')
        ) {
          failNextWriteOf.splice(i, 1);
          throw Object.assign(new Error('injected throttle'), {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottle' },
    );
    lostAnswers = loseAnswers(client);
  });
  beforeEach(async () => {
    failNextWriteOf.length = 0;
    failNextUpdateOf.clear();
    lostAnswers.nextOf.clear();
    lostAnswers.lost = 0;
    tableName = `reclaimed-billed-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const documentClient = createDocumentClient(client);
    store = new DynamoConversationStore(documentClient, tableName);
    ledger = new DynamoUsageLedger(documentClient, tableName, 10);
  });

  const shard = async () =>
    (
      await createDocumentClient(client).send(
        new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, 0) }),
      )
    ).Item ?? {};

  const sweepAt = (nowMs: number) => sweepAtOf(client, tableName, nowMs);

  /**
   * A chat turn whose function was killed close to its deadline: its last heartbeat
   * renewed the lease (20 s) past the reservation's expiry (the deadline).
   */
  const turnKilledNearItsDeadline = (userId: string) =>
    streamingTurn({ store, ledger }, userId, {
      startedAtMs: T0,
      expiresAtMs: T0 + 10_000,
      leaseUntilMs: T0 + 20_000,
    });

  it('a late spend that failed is made by the sweep, which finds the entry put back with its figures', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const reservation = await ledger.reserve({
      userId,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 10_000_000_000,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
    });
    // Expired: a reservation refused elsewhere reclaims it (hold given back, 'reclaim' recorded).
    expect(await ledger.reclaimExpired(T0 + 61_000)).toBe(1);
    // The recovery settles it: a late spend on each month; the shard's is throttled.
    failNextWriteOf.push('GLOBAL#USAGE#');
    const actual = { usage: STARTED_USAGE, costNanoUsd: 400_000 };
    await expect(ledger.settle(reservation, actual, { recovered: true })).rejects.toThrow(
      'injected throttle',
    );
    // keepUnsettled put the entry back with settleTo: the sweep is to finish it.
    expect((await ledger.listReservations()).map((r) => r.id)).toEqual([reservation.id]);

    await ledger.reclaimExpired(T0 + 120_000);

    // Each month once: the user's late spend, made by the settle, is not made again.
    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ spentNanoUsd: 400_000 });
    expect(Number((await shard()).spentNanoUsd ?? 0)).toBe(400_000);
    expect(await ledger.listReservations()).toEqual([]);
  });

  it("counts a late spend once in CostUsd when the settle made the deployment's and the sweep finishes the user's", async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const reservation = await ledger.reserve({
      userId,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 10_000_000_000,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
    });
    expect(await ledger.reclaimExpired(T0 + 61_000)).toBe(1);
    // The caller, only stalled, settles late: the shard's late spend is made, the user's throttled.
    failNextWriteOf.push(`USER#${userId}`);
    const actual = { usage: STARTED_USAGE, costNanoUsd: 400_000 };
    const settled = await ledger.settle(reservation, actual).then(
      (counted) => ({ counted }),
      (error: { counted?: { costNanoUsd: number } }) => ({ counted: error.counted }),
    );
    expect(settled.counted?.costNanoUsd).toBe(400_000);

    const sweepCounted: number[] = [];
    await ledger.reclaimExpired(T0 + 120_000, {
      onCounted: (counted) => sweepCounted.push(counted.costNanoUsd),
    });

    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ spentNanoUsd: 400_000 });
    expect(Number((await shard()).spentNanoUsd ?? 0)).toBe(400_000);
    // What the settle and the sweep publish sums to what the deployment's month spent.
    expect(settled.counted!.costNanoUsd + sweepCounted.reduce((a, b) => a + b, 0)).toBe(400_000);
  });

  it('a turn killed near its deadline is recovered and billed by the sweep, which leaves its expired reservation to the recovery', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const { conversationId } = await turnKilledNearItsDeadline(userId);

    // The minute's sweep: the lease still runs, though the reservation has expired.
    expect(await sweepAt(T0 + 15_000)).toMatchObject({ recovered: 0 });
    // The following sweeps, long after the lease ran out.
    for (const at of [T0 + 75_000, T0 + 135_000, T0 + 600_000]) await sweepAt(at);

    const conversation = await store.getConversation(userId, conversationId);
    // Recovered by a later sweep: the conversation is free, what it had streamed billed.
    expect(conversation?.activeTurn).toBeUndefined();
    expect((await ledger.userMonth(userId, MONTH)).spentNanoUsd).toBeGreaterThan(0);
  });

  it('an answer a recovery stored after a reclaim is billed though the settle after it is throttled', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const { conversationId } = await turnKilledNearItsDeadline(userId);
    // Reclaimed while the lease still ran, by a reservation refused elsewhere.
    expect(await ledger.reclaimExpired(T0 + 15_000)).toBe(1);

    // The user's next message (or a stop) recovers the turn: the answer is stored, as
    // interrupted, with its figures as the entry's settleTo; the settle's first write
    // (the settlement record) is throttled.
    const documentClient = createDocumentClient(client);
    const recover = createTurnRecovery({
      store,
      ledger,
      usageRecords: new DynamoUsageRecords(documentClient, tableName),
      prices,
      clock: () => T0 + 30_000,
    });
    failNextWriteOf.push('SETTLEMENT#');
    await expect(recover(userId, conversationId)).rejects.toThrow('injected throttle');
    const answer = (await store.message(userId, conversationId, 2))!;
    expect(answer.stopReason).toBe('interrupted');
    expect(answer.costNanoUsd).toBeGreaterThan(0);

    for (const at of [T0 + 75_000, T0 + 135_000, T0 + 600_000]) await sweepAt(at);

    // A stored answer is billed though its settle never comes.
    expect((await ledger.userMonth(userId, MONTH)).spentNanoUsd).toBe(answer.costNanoUsd);
    expect(await ledger.globalMonthSpendNanoUsd(MONTH)).toBe(answer.costNanoUsd);
  });

  it('counts a settle once when a reclaim was recorded but had not yet taken the hold, and the answer to the settle is lost', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const reservation = await ledger.reserve({
      userId,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 10_000_000_000,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
    });
    // A reclaim at expiry records itself and releases the user's hold; its release on the
    // shard has not landed (failed here; in flight would do as well).
    const shardKey = ledgerKeys.globalShard(MONTH, 0).pk;
    failNextUpdateOf.add(shardKey);
    await expect(ledger.reclaimExpired(T0 + 61_000)).rejects.toThrow('injected write failure');
    expect(Number((await shard()).heldNanoUsd)).toBe(1_000_000);

    // The recovery settles: its update of the shard lands, its answer is lost, the SDK sends
    // it again, which finds the hold gone (its own doing) and the reclaim's record.
    lostAnswers.nextOf.add(shardKey);
    await ledger.settle(
      reservation,
      { usage: STARTED_USAGE, costNanoUsd: 400_000 },
      { recovered: true },
    );
    expect(lostAnswers.lost).toBe(1);

    // Billed once: the re-sent settle finds no mark of the reclaim taking the shard's hold.
    expect(await shard()).toMatchObject({ spentNanoUsd: 400_000, requests: 1 });
    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
      spentNanoUsd: 400_000,
      requests: 1,
    });
  });
});
