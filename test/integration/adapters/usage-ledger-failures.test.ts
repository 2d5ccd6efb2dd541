import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { ledgerKeys } from '../../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../../shared/domain/budget.js';

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
 * A hold whose write fails (after the SDK's retries: a throttled hot shard, a network
 * error) while the rest of its settle or release succeeds: the DynamoDB adapter on
 * DynamoDB Local, with the failure injected on the client.
 */
describe('DynamoUsageLedger when one item cannot be written', () => {
  let client: DynamoDBClient;
  /** Partition keys whose next UpdateItem fails. */
  const failNextUpdateOf = new Set<string>();
  let ledger: DynamoUsageLedger;
  let tableName: string;

  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const pk = (args.input as { Key?: { pk?: unknown } }).Key?.pk;
        const partition = typeof pk === 'string' ? pk : (pk as { S?: string } | undefined)?.S;
        if (context.commandName === 'UpdateItemCommand' && failNextUpdateOf.delete(partition!)) {
          throw Object.assign(new Error('injected write failure'), { name: 'InternalServerError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectWriteFailure' },
    );
  });
  beforeEach(async () => {
    failNextUpdateOf.clear();
    // One shard: below $20 the global budget is not split.
    tableName = `ledger-failures-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    ledger = new DynamoUsageLedger(createDocumentClient(client), tableName, 10);
  });

  const reserve = (userId: string) =>
    ledger.reserve({
      userId,
      amountNanoUsd: 1_000_000,
      userBudgetNanoUsd: BUDGET,
      globalBudgetNanoUsd: BUDGET,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
    });
  const shard = async () => {
    const { Item } = await createDocumentClient(client).send(
      new GetCommand({ TableName: tableName, Key: ledgerKeys.globalShard(MONTH, 0) }),
    );
    return Item ?? {};
  };
  const holdsOn = (item: Record<string, unknown>) =>
    Object.keys(item).filter((name) => name.startsWith('hold_'));

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

  it('leaves a release that failed on one item to the sweep, which releases it', async () => {
    const userId = `user-${randomUUID()}`;
    const reservation = await reserve(userId);
    failNextUpdateOf.add(ledgerKeys.userMonth(userId, MONTH).pk);

    await expect(ledger.release(reservation)).rejects.toThrow('injected write failure');

    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({ heldNanoUsd: 1_000_000 });
    expect(await shard()).toMatchObject({ heldNanoUsd: 0 });

    expect(await ledger.reclaimExpired(T0 + 61_000)).toBe(1);

    expect(await ledger.userMonth(userId, MONTH)).toMatchObject({
      heldNanoUsd: 0,
      spentNanoUsd: 0,
      requests: 0,
    });
    expect(await ledger.listReservations()).toEqual([]);
  });
});
