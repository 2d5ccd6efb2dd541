import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { BudgetExceededError } from '../../../shared/domain/errors.js';
import { usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import { usageLedgerContract } from '../../contracts/usage-ledger.contract.js';

/** Below $20 the global budget is one shard, as the contract's exact global checks need. */
const GLOBAL_BUDGET_USD = 10;

describe('DynamoUsageLedger on DynamoDB Local', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
  });

  // A table per test: reclaiming and the global spend read the whole ledger.
  usageLedgerContract(async () => {
    const tableName = `contract-ledger-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    return {
      ledger: new DynamoUsageLedger(createDocumentClient(client), tableName, GLOBAL_BUDGET_USD),
    };
  });

  // $100 a month is ten shards of $10.
  it('says what one call too large for a shard of the deployment would cost, and what fits', async () => {
    const tableName = `contract-ledger-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const ledger = new DynamoUsageLedger(createDocumentClient(client), tableName, 100);
    const nowMs = Date.now();

    const refusal = ledger.reserve({
      userId: 'lavish',
      amountNanoUsd: usdToNano(30),
      userDefaultBudgetNanoUsd: usdToNano(1_000),
      globalBudgetNanoUsd: usdToNano(100),
      nowMs,
      expiresAtMs: nowMs + 60_000,
    });

    await expect(refusal).rejects.toThrow(BudgetExceededError);
    await expect(refusal).rejects.toThrow(/worst-case cost of \$30 .*one call hold \(\$10\)/);
    expect((await ledger.userMonth('lavish', monthOf(nowMs))).heldNanoUsd).toBe(0);
  });

  it('holds a deployment budget lowered mid-month, counting what was spent under the old one', async () => {
    const tableName = `contract-ledger-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const documentClient = createDocumentClient(client);
    const nowMs = Date.now();
    const month = monthOf(nowMs);
    const reserveOn = (ledger: DynamoUsageLedger, budgetUsd: number, i: number) =>
      ledger.reserve({
        userId: `spender-${i}`,
        amountNanoUsd: usdToNano(2),
        userDefaultBudgetNanoUsd: usdToNano(1_000),
        globalBudgetNanoUsd: usdToNano(budgetUsd),
        nowMs,
        expiresAtMs: nowMs + 60_000,
      });
    // $64 spent under $1,000 (16 shards), then the budget lowered to $100 (10 shards).
    const before = new DynamoUsageLedger(documentClient, tableName, 1_000);
    for (let i = 0; i < 32; i++) {
      const reservation = await reserveOn(before, 1_000, i);
      await before.settle(reservation, { usage: ZERO_USAGE, costNanoUsd: usdToNano(2) });
    }
    const after = new DynamoUsageLedger(documentClient, tableName, 100);

    expect(await after.globalMonthSpendNanoUsd(month)).toBe(usdToNano(64));
    const attempts = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => reserveOn(after, 100, 100 + i)),
    );

    const admitted = attempts.filter((attempt) => attempt.status === 'fulfilled').length;
    expect(admitted).toBeGreaterThan(0);
    expect(64 + 2 * admitted).toBeLessThanOrEqual(100);
  });

  describe('a deployment budget raised mid-month into more shards', () => {
    const dollarCalls = (documentClient: ReturnType<typeof createDocumentClient>) => {
      const tableName = `contract-ledger-${randomUUID().slice(0, 8)}`;
      const nowMs = Date.now();
      const instance = (budgetUsd: number) => {
        const ledger = new DynamoUsageLedger(documentClient, tableName, budgetUsd);
        return (i: number) =>
          ledger
            .reserve({
              userId: `spender-${i}`,
              amountNanoUsd: usdToNano(1),
              userDefaultBudgetNanoUsd: usdToNano(1_000),
              globalBudgetNanoUsd: usdToNano(budgetUsd),
              nowMs,
              expiresAtMs: nowMs + 60_000,
            })
            .then((reservation) =>
              ledger.settle(reservation, { usage: ZERO_USAGE, costNanoUsd: usdToNano(1) }),
            );
      };
      const spent = () =>
        new DynamoUsageLedger(documentClient, tableName, 20).globalMonthSpendNanoUsd(
          monthOf(nowMs),
        );
      return { tableName, instance, spent };
    };

    it('lets the month spend no more than the new budget, though one shard holds more than its share', async () => {
      const { tableName, instance, spent } = dollarCalls(createDocumentClient(client));
      await ensureTable(client, tableName);
      // $19: one shard, spent to the last dollar.
      const old = instance(19);
      for (let i = 0; i < 19; i++) await old(i);

      // $20 is two shards of $10: the first already holds $19.
      const after = instance(20);
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => after(100 + i)),
      );

      expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
      expect(await spent()).toBe(usdToNano(20));
    });

    it('holds it with instances of both budgets reserving at once, mid-deploy', async () => {
      const { tableName, instance, spent } = dollarCalls(createDocumentClient(client));
      await ensureTable(client, tableName);
      const old = instance(19);
      for (let i = 0; i < 15; i++) await old(i);

      // Two new instances and an old one, each setting the shards to its own budget.
      const [newer, newest] = [instance(20), instance(20)];
      await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) => [newer, newest, old][i % 3]!(100 + i)),
      );

      expect(await spent()).toBeLessThanOrEqual(usdToNano(20));
    });
  });
});
