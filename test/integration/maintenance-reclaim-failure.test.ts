import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { createDocumentClient } from '../../shared/adapters/aws/clients.js';
import { budgetNoticeKeys } from '../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import {
  maintenanceSettings,
  maintenanceTable,
  scheduledRun,
  settledChatCall,
} from './support/maintenance-runs.js';

/** One expired hold the sweep cannot give back must not cost the rest of the run. */
describe('a maintenance run that cannot reclaim one expired hold', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    ({ client, tableName } = await maintenanceTable('reclaim-failure'));
  });

  it('still checks the budgets, then fails the invocation saying why', async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const userId = `spender-${randomUUID().slice(0, 8)}`;
    // A call that spent 60% of the user's budget ($10), and one whose caller died an hour ago.
    await settledChatCall(documentClient, tableName, { userId, costNanoUsd: 6_000_000_000, nowMs });
    await ledger.reserve({
      userId: `dead-${randomUUID().slice(0, 8)}`,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs: nowMs - 3_600_000,
      expiresAtMs: nowMs - 1_800_000,
    });

    const settings = maintenanceSettings(tableName);
    const handler = composeMaintenance(
      settings,
      createMaintenanceAdapters(settings, {
        // The reclaim's write (recorded beside the settlement record) refused.
        observeDynamoDb: (dynamodb) =>
          dynamodb.middlewareStack.add(
            (next, context) => async (args) => {
              if (context.commandName === 'TransactWriteItemsCommand') {
                throw Object.assign(new Error('injected: an item the code cannot write'), {
                  name: 'ValidationException',
                  $metadata: { httpStatusCode: 400 },
                });
              }
              return next(args);
            },
            { step: 'initialize', name: 'refuseReclaims' },
          ),
      }),
    );

    const outcome = await scheduledRun(handler, 50_000).then(
      () => 'returned',
      (error: unknown) => String(error),
    );

    const notice = await documentClient.send(
      new GetCommand({
        TableName: tableName,
        Key: budgetNoticeKeys.principal(userId, monthOf(nowMs), 50),
      }),
    );
    expect(notice.Item).toBeDefined();
    expect(outcome).toMatch(/could not reclaim the expired holds/);
  });
});
