import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { createDocumentClient } from '../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { type DynamoDbRequest, recordDynamoDbRequests } from './support/dynamodb-calls.js';
import {
  maintenanceSettings,
  maintenanceTable,
  scheduledRun,
  settledChatCall,
} from './support/maintenance-runs.js';

/**
 * What the minute sweep writes once a principal's budget thresholds are all announced: a
 * conditional write refused still costs a write unit, every minute for the rest of the month.
 */
describe('the budget checks of a warm maintenance function', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    ({ client, tableName } = await maintenanceTable('budget-writes'));
  });

  it('writes no notice again once each threshold crossed is announced', async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const userId = `spender-${randomUUID().slice(0, 8)}`;
    // A principal over their budget: 100% crossed, and so 50 and 80.
    await settledChatCall(documentClient, tableName, { userId, costNanoUsd: 20_000_000, nowMs });
    await ledger.setUserBudgetOverride(userId, 0.01, nowMs);

    const settings = maintenanceSettings(tableName);
    const requests: DynamoDbRequest[] = [];
    const handler = composeMaintenance(
      settings,
      createMaintenanceAdapters(settings, {
        observeDynamoDb: (dynamodb) => recordDynamoDbRequests(dynamodb, requests),
      }),
    );
    const run = () => scheduledRun(handler, 50_000);
    const noticeWrites = () =>
      requests.filter(
        ({ operation, input }) =>
          operation === 'PutItem' && JSON.stringify(input.Item).includes('BUDGETNOTICE#'),
      ).length;

    await run();
    expect(noticeWrites()).toBe(3);

    requests.length = 0;
    await run();
    await run();
    expect(noticeWrites()).toBe(0);
  });
});
