import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
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
 * The reservation's index entry is written beside its holds, but only its settle or
 * release waits for it: the DynamoDB adapter on DynamoDB Local, the entry's put held back
 * or failed on the client.
 */
describe("DynamoUsageLedger's reservation index entry", () => {
  let client: DynamoDBClient;
  let ledger: DynamoUsageLedger;
  /** While set, index puts wait for it; `fail` makes them fail instead. */
  let gate: Promise<void> | undefined;
  let fail = false;
  let puts = 0;

  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: { pk?: unknown } }).Item?.pk;
        const pk = typeof key === 'string' ? key : (key as { S?: string } | undefined)?.S;
        if (context.commandName === 'PutItemCommand' && pk?.startsWith('RESV#')) {
          puts++;
          if (fail) {
            throw Object.assign(new Error('injected write failure'), {
              name: 'InternalServerError',
            });
          }
          await gate;
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdIndexPuts' },
    );
  });
  beforeEach(async () => {
    gate = undefined;
    fail = false;
    puts = 0;
    const tableName = `ledger-index-${randomUUID().slice(0, 8)}`;
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
    gate = new Promise((done) => {
      open = done;
    });
  };

  it('is not waited for by the call, but by its settle: no entry outlives the settled hold', async () => {
    const userId = `user-${randomUUID()}`;
    closeGate();
    const reservation = await reserve(userId);
    expect(puts).toBe(1);

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
    fail = true;
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
});
