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

/** The deployment's shard caps, set while another function version admits calls under its own. */
describe("the deployment's shard caps", () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
  });

  it('gives the user back what a reservation held when the shards cannot be set to its budget', async () => {
    const tableName = `shard-caps-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const plain = createDocumentClient(client);
    const nowMs = Date.now();
    const month = monthOf(nowMs);
    const request = (budgetUsd: number, amountUsd: number, userId: string) => ({
      userId,
      amountNanoUsd: usdToNano(amountUsd),
      userDefaultBudgetNanoUsd: usdToNano(1_000),
      globalBudgetNanoUsd: usdToNano(budgetUsd),
      nowMs,
      expiresAtMs: nowMs + 600_000,
    });
    // An instance still on the old budget, $19 (one shard), busy admitting calls.
    const old = new DynamoUsageLedger(plain, tableName, 19);
    await old.release(await old.reserve(request(19, 0.01, 'old-0')));
    let oldCalls = 0;
    // A new instance on $20 (two shards): each time it is about to set the caps, the old
    // one admits a call first (under load, between its reading and its transaction).
    const busy = createDynamoDbClient(inject('dynamodbEndpoint'));
    busy.middlewareStack.add(
      (next, context) => async (args) => {
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems;
        if (context.commandName === 'TransactWriteItemsCommand' && items?.length === 16) {
          await old.reserve(request(19, 0.01, `old-${++oldCalls}`));
        }
        return next(args);
      },
      { step: 'initialize', name: 'oldInstanceBusy' },
    );
    const after = new DynamoUsageLedger(createDocumentClient(busy), tableName, 20);

    const attempt = after.reserve(request(20, 1, 'victim'));
    await expect(attempt).rejects.toThrow();
    expect(oldCalls).toBeGreaterThan(0);

    // The call was not admitted: its user's month holds nothing for it (not $1 until the
    // reservation expires, the whole Lambda timeout for a chat turn).
    expect((await after.userMonth('victim', month)).heldNanoUsd).toBe(0);
    // And it was a refusal that may fit later, not an internal error.
    await expect(attempt).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(attempt).rejects.toMatchObject({ heldByCallsInFlight: true });
  });
});
