import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { apiKeyKeys, ledgerKeys } from '../../../shared/adapters/dynamodb/keys.js';
import { partitionOf as partitionOfId } from '../../../shared/adapters/dynamodb/reservation-index.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { BudgetExceededError } from '../../../shared/domain/errors.js';
import { newReservationId } from '../../../shared/domain/ids.js';
import { loseAnswers, partitionOf } from '../support/lost-answers.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const MONTH = monthOf(T0);
const BUDGET = 10_000_000_000;
const USAGE = {
  inputTokens: 100,
  outputTokens: 20,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/**
 * The DynamoDB adapter on DynamoDB Local when its writes fail (after the SDK's retries: a
 * throttled hot shard, a network error) or are slow: failures injected, and the index
 * entry's put held back, on the client.
 */
describe('DynamoUsageLedger', () => {
  let client: DynamoDBClient;
  /** Partition keys whose next UpdateItem (alone, or first in a transaction) fails. */
  const failNextUpdateOf = new Set<string>();
  /** Partition keys whose next UpdateItem lands, then fails (its answer lost, the SDK's retries refused). */
  const landThenFailNextUpdateOf = new Set<string>();
  /** Partition keys whose next UpdateItem waits for a promise. */
  const delayNextUpdateOf = new Map<string, Promise<void>>();
  /** Partition-key prefixes whose next DeleteItem waits for a promise. */
  const delayNextDeleteOf = new Map<string, Promise<void>>();
  /** Partition-key prefixes whose next DeleteItem fails. */
  const failNextDeleteOf = new Set<string>();
  /** Partitions whose next write lands but whose answer is lost: the SDK sends it again. */
  let lostAnswers: ReturnType<typeof loseAnswers>;
  /** The next transactions DynamoDB cancels for another transaction on an item at the same moment. */
  const conflictingTransactions = { left: 0 };
  /** Every command sent, as `<command> <partition key>`. */
  const sent: string[] = [];
  /** BatchGetItems still to answer with every key unprocessed, as a throttled table may. */
  let unprocessedBatchGets = 0;
  /** Index puts: counted; while `gate` is set they wait for it, with `fail` they fail. */
  const indexPuts = { count: 0, fail: false, gate: undefined as Promise<void> | undefined };
  let ledger: DynamoUsageLedger;
  let tableName: string;

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
        const updated = partitionOf(input.Key?.pk);
        sent.push(`${context.commandName} ${updated ?? partitionOf(input.Item?.pk)}`);
        if (context.commandName === 'UpdateItemCommand' && failNextUpdateOf.delete(updated!)) {
          throw injectedFailure();
        }
        const transacted = partitionOf(input.TransactItems?.[0]?.Update?.Key?.pk);
        if (
          context.commandName === 'TransactWriteItemsCommand' &&
          failNextUpdateOf.delete(transacted!)
        ) {
          throw injectedFailure();
        }
        if (
          context.commandName === 'UpdateItemCommand' &&
          landThenFailNextUpdateOf.delete(updated!)
        ) {
          await next(args);
          throw injectedFailure();
        }
        const delay =
          context.commandName === 'UpdateItemCommand' && delayNextUpdateOf.get(updated!);
        if (delay) {
          delayNextUpdateOf.delete(updated!);
          await delay;
        }
        const deleted = [...delayNextDeleteOf].find(
          ([prefix]) => context.commandName === 'DeleteItemCommand' && updated?.startsWith(prefix),
        );
        if (deleted) {
          delayNextDeleteOf.delete(deleted[0]);
          await deleted[1];
        }
        const failing = [...failNextDeleteOf].find(
          (prefix) => context.commandName === 'DeleteItemCommand' && updated?.startsWith(prefix),
        );
        if (failing) {
          failNextDeleteOf.delete(failing);
          throw injectedFailure();
        }
        const put = partitionOf(input.Item?.pk);
        if (context.commandName === 'PutItemCommand' && put?.startsWith('RESV#')) {
          indexPuts.count++;
          if (indexPuts.fail) throw injectedFailure();
          await indexPuts.gate;
        }
        if (context.commandName === 'BatchGetItemCommand' && unprocessedBatchGets > 0) {
          unprocessedBatchGets--;
          const { RequestItems } = args.input as { RequestItems: Record<string, unknown> };
          return {
            response: {},
            output: { $metadata: {}, Responses: {}, UnprocessedKeys: RequestItems },
          } as never;
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectWriteFailure' },
    );
    lostAnswers = loseAnswers(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (
          context.commandName === 'TransactWriteItemsCommand' &&
          conflictingTransactions.left > 0
        ) {
          conflictingTransactions.left--;
          const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
          throw new TransactionCanceledException({
            message: 'Transaction cancelled: another transaction is ongoing on an item',
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: items.map((_, i) => ({
              Code: i === 0 ? 'TransactionConflict' : 'None',
            })),
          });
        }
        return next(args);
      },
      // As DynamoDB answers: inside the SDK's retries, which do not cover a cancelled transaction.
      { step: 'deserialize', name: 'transactionConflictAsDynamoDb' },
    );
  });
  beforeEach(async () => {
    failNextUpdateOf.clear();
    landThenFailNextUpdateOf.clear();
    conflictingTransactions.left = 0;
    delayNextUpdateOf.clear();
    delayNextDeleteOf.clear();
    failNextDeleteOf.clear();
    lostAnswers.nextOf.clear();
    lostAnswers.lost = 0;
    sent.length = 0;
    unprocessedBatchGets = 0;
    Object.assign(indexPuts, { count: 0, fail: false, gate: undefined });
    // One shard: below $20 the global budget is not split.
    tableName = `ledger-failures-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    ledger = new DynamoUsageLedger(createDocumentClient(client), tableName, 10);
  });

  const reserve = (userId: string, overrides: Partial<Parameters<typeof ledger.reserve>[0]> = {}) =>
    ledger.reserve({
      userId,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: BUDGET,
      globalBudgetNanoUsd: BUDGET,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
      ...overrides,
    });
  /**
   * Fills the user's month item with as many holds of calls in flight (a day each) as its
   * 400 KB take, so that one more does not fit.
   */
  const fillWithHolds = async (userId: string) => {
    const documents = createDocumentClient(client);
    const month = ledgerKeys.userMonth(userId, MONTH);
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: month }));
    const ids = Array.from({ length: 18_000 }, () =>
      ledgerKeys.holdAttribute(newReservationId(T0 + 25 * 3600_000)),
    );
    const fill = (count: number) =>
      documents.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...Item, ...Object.fromEntries(ids.slice(0, count).map((id) => [id, 1_000])) },
        }),
      );
    let [fits, tooMany] = [0, ids.length];
    while (tooMany - fits > 1) {
      const count = Math.floor((fits + tooMany) / 2);
      await fill(count).then(
        () => (fits = count),
        () => (tooMany = count),
      );
    }
    await fill(fits);
    return { documents, month };
  };
  const shard = async () => {
    const { Item } = await createDocumentClient(client).send(
      new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, 0) }),
    );
    return Item ?? {};
  };
  const userMonthItem = async (userId: string) => {
    const { Item } = await createDocumentClient(client).send(
      new GetCommand({ TableName: tableName, Key: ledgerKeys.userMonth(userId, MONTH) }),
    );
    return Item ?? {};
  };
  const holdsOn = (item: Record<string, unknown>) =>
    Object.keys(item).filter((name) => name.startsWith('hold_'));

  describe('when two budget settings for one principal interleave', () => {
    it("enforces the budget stored last, though the first setting's month update lands last", async () => {
      const userId = `user-${randomUUID()}`;
      const monthKey = ledgerKeys.userMonth(userId, MONTH);
      let landFirst = () => {};
      delayNextUpdateOf.set(
        monthKey.pk,
        new Promise((resolve) => {
          landFirst = resolve;
        }),
      );

      const first = ledger.setUserBudgetOverride(userId, 5, T0);
      await vi.waitFor(() => expect(sent).toContain(`UpdateItemCommand ${monthKey.pk}`));
      await ledger.setUserBudgetOverride(userId, 7, T0);
      landFirst();
      await first;

      const { Item } = await createDocumentClient(client).send(
        new GetCommand({ TableName: tableName, Key: monthKey }),
      );
      expect(Number(Item?.availableNanoUsd) + Number(Item?.heldNanoUsd ?? 0)).toBe(7_000_000_000);
      expect(await ledger.userBudgetOverrideUsd(userId)).toBe(7);
    });
  });

  describe('when one item cannot be written', () => {
    it("leaves a settle that failed on one item to the sweep, which settles it to the caller's figures", async () => {
      const userId = `user-${randomUUID()}`;
      const reservation = await reserve(userId);
      failNextUpdateOf.add(ledgerKeys.globalShard(MONTH, 0).pk);

      await expect(
        ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 }),
      ).rejects.toThrow('injected write failure');

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        spentNanoUsd: 400_000,
        heldNanoUsd: 400_000,
        requests: 1,
      });
      expect(await shard()).toMatchObject({ heldNanoUsd: 1_000_000 });
      expect((await ledger.listReservations()).map((r) => r.id)).toEqual([reservation.id]);
      // Not before it expires: the caller might still be settling.
      expect(await ledger.reclaimExpired(T0 + 1_000)).toBe(0);

      expect(await ledger.reclaimExpired(T0 + 61_000)).toBe(1);

      expect(await shard()).toMatchObject({
        heldNanoUsd: 400_000,
        spentNanoUsd: 400_000,
        requests: 1,
        inputTokens: 100,
        outputTokens: 20,
      });
      expect(holdsOn(await shard())).toEqual([]);
      // The user's month was settled once, by the caller.
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        spentNanoUsd: 400_000,
        heldNanoUsd: 400_000,
        requests: 1,
      });
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('gives back a hold that landed though the call was refused for its failed answer', async () => {
      const userId = `user-${randomUUID()}`;
      landThenFailNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);
      // The user's month started: the update that lands and fails is the hold.
      await ledger.release(await reserve(userId));

      landThenFailNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);
      await expect(reserve(userId)).rejects.toThrow('injected write failure');

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 0 });
      expect(holdsOn(await userMonthItem(userId))).toEqual([]);
      expect(await shard()).toMatchObject({ heldNanoUsd: 0 });
      expect(await ledger.listReservations()).toEqual([]);
    });

    it("gives back a shard's hold that landed, rather than hold again on another shard", async () => {
      const userId = `user-${randomUUID()}`;
      // $20: two shards of $10, their caps set by a first call.
      const sharded = new DynamoUsageLedger(createDocumentClient(client), tableName, 20);
      const reserveOn = (shardWanted: number) => {
        let id: string;
        do id = newReservationId(T0 + 60_000);
        while (partitionOfId(id, 2) !== shardWanted);
        return sharded.reserve({
          id,
          userId,
          amountNanoUsd: 1_000_000,
          userDefaultBudgetNanoUsd: BUDGET,
          globalBudgetNanoUsd: 20_000_000_000,
          nowMs: T0,
          expiresAtMs: T0 + 60_000,
        });
      };
      await sharded.release(await reserveOn(0));
      landThenFailNextUpdateOf.add(ledgerKeys.globalShard(MONTH, 0).pk);

      await expect(reserveOn(0)).rejects.toThrow('injected write failure');

      for (const index of [0, 1]) {
        const { Item = {} } = await createDocumentClient(client).send(
          new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, index) }),
        );
        expect(Number(Item.heldNanoUsd ?? 0)).toBe(0);
        expect(holdsOn(Item)).toEqual([]);
      }
      expect(await sharded.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 0 });
    });

    it('counts once a settle that landed on one item though its answer failed, when the sweep finishes it', async () => {
      const userId = `user-${randomUUID()}`;
      const reservation = await reserve(userId);
      const before = await shard();
      landThenFailNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);

      await expect(
        ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 }),
      ).rejects.toThrow('injected write failure');
      await ledger.reclaimExpired(T0 + 61_000);

      const countedOnce = { spentNanoUsd: 400_000, heldNanoUsd: 400_000, requests: 1 };
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject(countedOnce);
      const after = await shard();
      expect(Number(after.spentNanoUsd) - Number(before.spentNanoUsd ?? 0)).toBe(400_000);
      expect(Number(after.heldNanoUsd) - Number(before.heldNanoUsd ?? 0)).toBe(-600_000);
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('leaves a release that failed on one item to the sweep, which releases it, billing nothing', async () => {
      const userId = `user-${randomUUID()}`;
      // Its call was never made: the sweep does not bill it as abandoned.
      const reservation = await reserve(userId);
      await ledger.billIfAbandoned(reservation, {
        api: 'messages',
        model: 'claude-x',
        startedAtMs: T0,
      });
      failNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);

      await expect(ledger.release(reservation)).rejects.toThrow('injected write failure');

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 1_000_000 });
      expect(await shard()).toMatchObject({ heldNanoUsd: 0 });

      const abandoned: unknown[] = [];
      expect(
        await ledger.reclaimExpired(T0 + 61_000, { onAbandoned: (call) => abandoned.push(call) }),
      ).toBe(1);
      expect(abandoned).toEqual([]);

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 0,
        spentNanoUsd: 0,
        requests: 0,
      });
      expect(await ledger.listReservations()).toEqual([]);
    });
  });

  it("learns why a user's hold was refused from the refused update, without reading the month", async () => {
    const userId = `user-${randomUUID()}`;
    const userMonth = ledgerKeys.userMonth(userId, MONTH).pk;
    // The month's first call: refused, the month started with its budget, held again.
    await reserve(userId, { userDefaultBudgetNanoUsd: 1_500_000 });
    await expect(reserve(userId, { userDefaultBudgetNanoUsd: 1_500_000 })).rejects.toThrow(
      'does not fit your monthly budget of $0.0015',
    );

    // Hold, the user's own budget read (none), the month started, hold again; then a hold,
    // and again in turn (the shard granted it: a call racing for two budgets is tried so).
    const onUserMonth = sent.filter((command) => command.endsWith(` ${userMonth}`));
    expect(onUserMonth.map((command) => command.split(' ')[0])).toEqual([
      'UpdateItemCommand',
      'GetItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
    ]);
  });

  it('gives a month started before months recorded their budget the budget that applies now', async () => {
    const [lowered, raised] = [`user-${randomUUID()}`, `user-${randomUUID()}`];
    // As the previous version left them: $0.002 of budget, $0.001 spent.
    for (const userId of [lowered, raised]) {
      await createDocumentClient(client).send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...ledgerKeys.userMonth(userId, MONTH),
            availableNanoUsd: 1_000_000,
            heldNanoUsd: 1_000_000,
            spentNanoUsd: 1_000_000,
          },
        }),
      );
    }

    const refused = reserve(lowered, { userDefaultBudgetNanoUsd: 1_500_000 });
    const admitted = await reserve(raised, {
      userDefaultBudgetNanoUsd: 3_000_000,
      amountNanoUsd: 2_000_000,
    });

    await expect(refused).rejects.toThrow('does not fit your monthly budget of $0.0015');
    expect(admitted.amountNanoUsd).toBe(2_000_000);
    expect(await ledger.userMonth(raised, MONTH)).toMatchObject({ heldNanoUsd: 3_000_000 });
  });

  describe('a call marked as sent', () => {
    const ifAbandoned = { api: 'messages' as const, model: 'claude-x', startedAtMs: T0 };

    it('is marked though its entry lands after the mark was asked for', async () => {
      let land = () => {};
      indexPuts.gate = new Promise<void>((resolve) => {
        land = resolve;
      });
      const reservation = await reserve(`user-${randomUUID()}`);
      const marking = ledger.billIfAbandoned(reservation, ifAbandoned);
      await new Promise((resolve) => setTimeout(resolve, 50));
      land();
      await marking;

      const [listed] = await ledger.listReservations();
      expect(listed?.ifAbandoned).toEqual(ifAbandoned);
    });

    it('is not billed when it was settled or released, though its entry could not be deleted', async () => {
      const userId = `user-${randomUUID()}`;
      const settled = await reserve(userId);
      const released = await reserve(userId);
      await ledger.billIfAbandoned(settled, ifAbandoned);
      await ledger.billIfAbandoned(released, ifAbandoned);
      failNextDeleteOf.add('RESV#');
      await ledger.settle(settled, { usage: USAGE, costNanoUsd: 300_000 }).catch(() => undefined);
      failNextDeleteOf.add('RESV#');
      await ledger.release(released).catch(() => undefined);
      expect(await ledger.listReservations()).toHaveLength(2);
      const abandoned: unknown[] = [];

      await ledger.reclaimExpired(T0 + 61_000, { onAbandoned: (call) => abandoned.push(call) });

      expect(abandoned).toEqual([]);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        spentNanoUsd: 300_000,
        heldNanoUsd: 300_000,
        requests: 1,
      });
      expect(await ledger.listReservations()).toEqual([]);
    });
  });

  it('finishes billing an abandoned call that failed on one item, telling it in each run that took a hold', async () => {
    const userId = `user-${randomUUID()}`;
    const ifAbandoned = { api: 'jobs' as const, model: 'claude-x', startedAtMs: T0 };
    await ledger.billIfAbandoned(await reserve(userId), ifAbandoned);
    failNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);
    const abandoned: unknown[] = [];
    const onAbandoned = (call: unknown) => abandoned.push(call);

    await expect(ledger.reclaimExpired(T0 + 61_000, { onAbandoned })).rejects.toThrow(
      'injected write failure',
    );
    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ spentNanoUsd: 0 });
    await ledger.reclaimExpired(T0 + 62_000, { onAbandoned });

    // The deployment's shard in the first run, the user's month in the second: one usage record.
    expect(abandoned).toEqual([
      expect.objectContaining({ userId, ifAbandoned }),
      expect.objectContaining({ userId, ifAbandoned }),
    ]);
    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
      spentNanoUsd: 1_000_000,
      heldNanoUsd: 1_000_000,
      requests: 1,
    });
    expect(await ledger.listReservations()).toEqual([]);
  });

  describe('when a write lands but its answer is lost, and the SDK sends it again', () => {
    const loseAnswersOf = (userId: string) => {
      lostAnswers.nextOf.add(ledgerKeys.userMonth(userId, MONTH).pk);
      lostAnswers.nextOf.add(ledgerKeys.globalShard(MONTH, 0).pk);
    };

    it('counts the hold once', async () => {
      const userId = `user-${randomUUID()}`;
      // The deployment's month started (its shard's cap set): the answer lost is the hold's.
      await ledger.release(await reserve(`user-${randomUUID()}`));
      const before = await shard();
      loseAnswersOf(userId);

      const reservation = await reserve(userId);

      expect(lostAnswers.lost).toBe(2);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 1_000_000 });
      expect(Number((await shard()).heldNanoUsd)).toBe(Number(before.heldNanoUsd ?? 0) + 1_000_000);
      await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 400_000,
        spentNanoUsd: 400_000,
      });
    });

    it('counts the settle once', async () => {
      const userId = `user-${randomUUID()}`;
      const reservation = await reserve(userId);
      const before = await shard();
      loseAnswersOf(userId);

      await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });

      expect(lostAnswers.lost).toBe(2);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 400_000,
        spentNanoUsd: 400_000,
        requests: 1,
        inputTokens: 100,
      });
      const after = await shard();
      expect(Number(after.spentNanoUsd) - Number(before.spentNanoUsd ?? 0)).toBe(400_000);
      expect(Number(after.requests) - Number(before.requests ?? 0)).toBe(1);
      expect(holdsOn(after)).toEqual([]);
    });

    it('counts once what a caller adds after a recovery took its hold', async () => {
      const userId = `user-${randomUUID()}`;
      const reservation = await reserve(userId);
      const recovered = { usage: { ...USAGE, outputTokens: 5 }, costNanoUsd: 250_000 };
      await ledger.settle(reservation, recovered, { recovered: true });
      // The caller's own settle finds the holds gone: it adds what it used beyond the recovery's figures.
      loseAnswersOf(userId);

      await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });

      expect(lostAnswers.lost).toBe(2);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        spentNanoUsd: 400_000,
        heldNanoUsd: 400_000,
        requests: 1,
        outputTokens: 20,
      });
      expect(await shard()).toMatchObject({ spentNanoUsd: 400_000, outputTokens: 20 });
    });
  });

  describe('when a transaction meets another on the same month item', () => {
    it('reclaims an expired hold all the same, trying again as the SDK does not', async () => {
      const userId = `user-${randomUUID()}`;
      await reserve(userId);
      conflictingTransactions.left = 2;

      expect(await ledger.reclaimExpired(T0 + 61_000)).toBe(1);

      expect(conflictingTransactions.left).toBe(0);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 0 });
      expect(holdsOn(await shard())).toEqual([]);
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('adds a late spend after a reclaim all the same', async () => {
      const userId = `user-${randomUUID()}`;
      const reservation = await reserve(userId);
      await ledger.reclaimExpired(T0 + 61_000);
      conflictingTransactions.left = 2;

      await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        spentNanoUsd: 400_000,
        heldNanoUsd: 400_000,
        requests: 1,
      });
    });
  });

  describe('when a recovery settles a call its caller did not', () => {
    const RECOVERED = { usage: USAGE, costNanoUsd: 400_000 };
    const countedOnce = { spentNanoUsd: 400_000, heldNanoUsd: 400_000, requests: 1 };

    it('counts it on every month though a reclaim of its expired reservation overtakes it', async () => {
      const userId = `user-${randomUUID()}`;
      const keyId = `key-${randomUUID()}`;
      const reservation = await reserve(userId, { apiKey: { id: keyId } });
      // The recovery's writes to the shard, the key's month and the index entry are slow.
      let land = () => {};
      const landing = new Promise<void>((resolve) => {
        land = resolve;
      });
      delayNextUpdateOf.set(ledgerKeys.globalShard(MONTH, 0).pk, landing);
      delayNextUpdateOf.set(apiKeyKeys.month(keyId, MONTH).pk, landing);
      delayNextDeleteOf.set('RESV#', landing);

      const recovering = ledger.settle(reservation, RECOVERED, { recovered: true });
      await vi.waitFor(async () =>
        expect((await ledger.userMonth(userId, MONTH)).spentNanoUsd).toBe(400_000),
      );
      // Meanwhile another function finds the reservation expired and reclaims it.
      const other = new DynamoUsageLedger(createDocumentClient(client), tableName, 10);
      await other.reclaimExpired(T0 + 61_000);
      land();
      await recovering;

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject(countedOnce);
      expect(await ledger.keyMonth(keyId, MONTH)).toMatchObject(countedOnce);
      expect(await shard()).toMatchObject(countedOnce);
      expect(holdsOn(await shard())).toEqual([]);
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('settles the hold on the shard it moved to, though the turn recorded the planned one', async () => {
      const userId = `user-${randomUUID()}`;
      // $160: sixteen shards.
      const sharded = new DynamoUsageLedger(createDocumentClient(client), tableName, 160);
      const held = await sharded.reserve({
        userId,
        amountNanoUsd: 1_000_000,
        userDefaultBudgetNanoUsd: BUDGET,
        globalBudgetNanoUsd: 160_000_000_000,
        nowMs: T0,
        expiresAtMs: T0 + 60_000,
      });
      // The planned shard was full and another took the hold; the write recording the move was lost.
      const planned = { ...held, shard: (held.shard + 1) % 16 };

      await sharded.settle(planned, RECOVERED, { recovered: true });
      await sharded.reclaimExpired(T0 + 61_000);

      expect(await sharded.userMonth(userId, MONTH)).toMatchObject(countedOnce);
      expect(await sharded.globalMonthSpendNanoUsd(MONTH)).toBe(400_000);
      const { Item } = await createDocumentClient(client).send(
        new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, held.shard) }),
      );
      expect(Item).toMatchObject(countedOnce);
      expect(holdsOn(Item ?? {})).toEqual([]);
    });
  });

  describe("a reservation's index entry", () => {
    /** Lets the held puts go on once `promise` has had the time to run ahead of them. */
    const openGateAfter = async <T>(promise: Promise<T>) => {
      const state = await Promise.race([
        promise.then(() => 'settled'),
        new Promise((done) => setTimeout(() => done('pending'), 200)),
      ]);
      open();
      return state;
    };
    let open = () => {};
    const closeGate = () => {
      indexPuts.gate = new Promise((done) => {
        open = done;
      });
    };

    it('is not waited for by the call, but by its settle: no entry outlives the settled hold', async () => {
      const userId = `user-${randomUUID()}`;
      closeGate();
      const reservation = await reserve(userId);
      expect(indexPuts.count).toBe(1);

      const settling = ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });
      expect(await openGateAfter(settling)).toBe('pending');
      await settling;

      expect(await ledger.listReservations()).toEqual([]);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 400_000,
        spentNanoUsd: 400_000,
        requests: 1,
      });
    });

    it('is waited for by a release too', async () => {
      const userId = `user-${randomUUID()}`;
      closeGate();
      const reservation = await reserve(userId);

      const releasing = ledger.release(reservation);
      expect(await openGateAfter(releasing)).toBe('pending');
      await releasing;

      expect(await ledger.listReservations()).toEqual([]);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 0 });
    });

    it('is listed by the instance that made it as soon as the call is admitted', async () => {
      closeGate();
      const reservation = await reserve(`user-${randomUUID()}`);

      const listing = ledger.listReservations();
      expect(await openGateAfter(listing)).toBe('pending');
      expect((await listing).map((listed) => listed.id)).toEqual([reservation.id]);
      await ledger.release(reservation);
    });

    it('does not refuse the call when it cannot be written: the caller settles the holds all the same', async () => {
      const userId = `user-${randomUUID()}`;
      indexPuts.fail = true;
      const reservation = await reserve(userId);
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 1_000_000 });

      await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 400_000 });

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 400_000,
        spentNanoUsd: 400_000,
        requests: 1,
      });
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('does not refuse the call, nor keep its hold, when it cannot be written for a hold moved to another shard', async () => {
      const userId = `user-${randomUUID()}`;
      // $20: two shards of $10.
      const sharded = new DynamoUsageLedger(createDocumentClient(client), tableName, 20);
      const onShard = (wanted: number) => {
        for (;;) {
          const id = newReservationId(T0 + 60_000);
          if (partitionOfId(id, 2) === wanted) return id;
        }
      };
      const reserveOn = (id: string, amountNanoUsd: number) =>
        sharded.reserve({
          id,
          userId,
          amountNanoUsd,
          userDefaultBudgetNanoUsd: 100_000_000_000,
          globalBudgetNanoUsd: 20_000_000_000,
          nowMs: T0,
          expiresAtMs: T0 + 60_000,
        });
      // Shard 0 is full: a call planned on it moves to shard 1, where its entry cannot be written.
      const filling = await reserveOn(onShard(0), 10_000_000_000);
      indexPuts.fail = true;

      const moved = await reserveOn(onShard(0), 1_000_000);
      expect(moved.shard).toBe(1);
      await sharded.settle(moved, { usage: USAGE, costNanoUsd: 400_000 });

      const { Item = {} } = await createDocumentClient(client).send(
        new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, 1) }),
      );
      expect(Item).toMatchObject({ heldNanoUsd: 400_000, spentNanoUsd: 400_000, requests: 1 });
      expect(holdsOn(Item)).toEqual([]);
      expect(await sharded.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 10_000_400_000,
        spentNanoUsd: 400_000,
      });
      indexPuts.fail = false;
      await sharded.release(filling);
    });
  });
  it('settles a call whose month item filled with holds before any call on it settled', async () => {
    const userId = `user-${randomUUID()}`;
    const call = await reserve(userId);
    // A month started with a burst of batch jobs: their holds (a day each) fill the item
    // before the first of them settles.
    const { documents, month } = await fillWithHolds(userId);

    await ledger.settle(call, { usage: USAGE, costNanoUsd: 400_000 });

    const { Item: after = {} } = await documents.send(
      new GetCommand({ TableName: tableName, Key: month, ConsistentRead: true }),
    );
    expect(after[ledgerKeys.holdAttribute(call.id)]).toBeUndefined();
    expect(after).toMatchObject({ spentNanoUsd: 400_000, requests: 1, inputTokens: 100 });
    expect(await ledger.listReservations()).toEqual([]);
  });

  it("refuses a call as held by calls in flight when its user's month item is full of their holds", async () => {
    const userId = `user-${randomUUID()}`;
    await ledger.release(await reserve(userId));
    // What ~16,000 calls in flight (batch jobs hold for a day) leave on it.
    await fillWithHolds(userId);

    const refusal = await reserve(userId).catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(BudgetExceededError);
    expect(refusal).toMatchObject({ heldByCallsInFlight: true });
    expect((refusal as Error).message).toMatch(/too many calls in flight/);
    expect(await ledger.listReservations()).toEqual([]);
  });

  describe('when a caller dies before its index entry lands, so the sweep cannot find its holds', () => {
    const EXPIRED = T0 + 60_000 + 5 * 60_000 + 1;
    const settlementOf = async (id: string) =>
      (
        await createDocumentClient(client).send(
          new GetCommand({ TableName: tableName, Key: ledgerKeys.settlement(id) }),
        )
      ).Item;

    const KEY_ID = 'key-with-a-budget';
    const cases = [
      {
        where: "the user's month",
        tight: { userDefaultBudgetNanoUsd: 1_500_000 },
        held: async (userId: string) => (await ledger.userMonth(userId, MONTH)).heldNanoUsd,
      },
      {
        where: "the deployment's shard",
        tight: { globalBudgetNanoUsd: 1_500_000 },
        held: async () => Number((await shard()).heldNanoUsd),
      },
      {
        where: "the API key's month",
        tight: { apiKey: { id: KEY_ID, budgetNanoUsd: 1_500_000 } },
        held: async () => (await ledger.keyMonth(KEY_ID, MONTH)).heldNanoUsd,
      },
    ];

    for (const { where, tight, held } of cases) {
      it(`takes back a hold on ${where} it finds expired when it would refuse a call`, async () => {
        const userId = `user-${randomUUID()}`;
        indexPuts.fail = true;
        const dead = await reserve(userId, tight);
        indexPuts.fail = false;
        await expect(reserve(userId, { ...tight, nowMs: T0 + 2 * 60_000 })).rejects.toBeInstanceOf(
          BudgetExceededError,
        );

        const next = await reserve(userId, {
          ...tight,
          nowMs: EXPIRED,
          expiresAtMs: EXPIRED + 60_000,
        });

        expect(await settlementOf(dead.id)).toMatchObject({ by: 'reclaim' });
        expect(await ledger.listReservations()).toEqual([next]);
        expect(await held(userId)).toBe(1_000_000);
      });
    }

    it('takes it back though the read of the month items first leaves them unprocessed', async () => {
      const userId = `user-${randomUUID()}`;
      const tight = { userDefaultBudgetNanoUsd: 1_500_000 };
      indexPuts.fail = true;
      const dead = await reserve(userId, tight);
      indexPuts.fail = false;
      unprocessedBatchGets = 1;

      const next = await reserve(userId, {
        ...tight,
        nowMs: EXPIRED,
        expiresAtMs: EXPIRED + 60_000,
      });

      expect(unprocessedBatchGets).toBe(0);
      expect(await settlementOf(dead.id)).toMatchObject({ by: 'reclaim' });
      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 1_000_000 });
      await ledger.release(next);
    });

    it('still counts the call once should its caller only have been slow', async () => {
      const userId = `user-${randomUUID()}`;
      indexPuts.fail = true;
      const slow = await reserve(userId, { userDefaultBudgetNanoUsd: 1_500_000 });
      indexPuts.fail = false;
      const next = await reserve(userId, {
        userDefaultBudgetNanoUsd: 1_500_000,
        nowMs: EXPIRED,
        expiresAtMs: EXPIRED + 60_000,
      });

      await ledger.settle(slow, { usage: USAGE, costNanoUsd: 400_000 });

      expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
        heldNanoUsd: 1_400_000,
        spentNanoUsd: 400_000,
        requests: 1,
      });
      await ledger.release(next);
    });
  });
});

function injectedFailure(): Error {
  return Object.assign(new Error('injected write failure'), { name: 'InternalServerError' });
}
