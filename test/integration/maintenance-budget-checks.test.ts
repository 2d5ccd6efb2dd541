import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { settleWithin } from '../../local-stack/lambda-runtime/timeout.js';
import { createDocumentClient } from '../../shared/adapters/aws/clients.js';
import { budgetNoticeKeys } from '../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../shared/domain/budget.js';
import {
  maintenanceSettings,
  maintenanceTable,
  scheduledRun,
  settledChatCall,
} from './support/maintenance-runs.js';

/** Each read of a month or a budget takes this long (AWS answers in a few ms; this is a slow day). */
const READ_MS = 80;
const TIMEOUT_MS = 6_000;
/** The month's spenders: one after the other, their reads outlast a run. */
const SPENDERS = 100;

/**
 * The maintenance function checks the budgets of the month's biggest spenders (up to 1,000
 * principals and 1,000 keys, two months at a month's start) within its run.
 */
describe('the budget checks of a maintenance run with many spenders', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    ({ client, tableName } = await maintenanceTable('budget-checks'));
  });

  it("announces every spender's crossed threshold and returns before its timeout", async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const _ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const _records = new DynamoUsageRecords(documentClient, tableName);
    const run = randomUUID().slice(0, 8);
    const spenders = Array.from({ length: SPENDERS }, (_, i) => `spender-${run}-${i}`);
    // Each has spent 60% of the default budget ($10): their 50% is to be announced.
    for (let i = 0; i < SPENDERS; i += 20) {
      await Promise.all(
        spenders.slice(i, i + 20).map((userId) =>
          settledChatCall(documentClient, tableName, {
            userId,
            costNanoUsd: 6_000_000_000,
            nowMs,
          }),
        ),
      );
    }

    const settings = maintenanceSettings(tableName, {
      USER_MONTHLY_BUDGET_USD: '10',
      GLOBAL_MONTHLY_BUDGET_USD: '100000',
    });
    const handler = composeMaintenance(
      settings,
      createMaintenanceAdapters(settings, {
        observeDynamoDb: (dynamodb) =>
          dynamodb.middlewareStack.add(
            (next, context) => async (args) => {
              if (context.commandName === 'GetItemCommand') {
                await new Promise((resolve) => setTimeout(resolve, READ_MS));
              }
              return next(args);
            },
            { step: 'initialize', name: 'slowReads' },
          ),
      }),
    );
    const settled = await settleWithin(
      scheduledRun(handler, TIMEOUT_MS).catch((error: unknown) => ({ failed: String(error) })),
      TIMEOUT_MS,
    );

    expect(settled).toMatchObject({ timedOut: false, value: { deferred: 0 } });
    const announced = await Promise.all(
      spenders.map(async (userId) => {
        const { Items = [] } = await documentClient.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk = :sk',
            ExpressionAttributeValues: {
              ':pk': budgetNoticeKeys.principal(userId, monthOf(nowMs), 50).pk,
              ':sk': budgetNoticeKeys.principal(userId, monthOf(nowMs), 50).sk,
            },
          }),
        );
        return Items.length;
      }),
    );
    expect(announced.filter((count) => count === 1)).toHaveLength(SPENDERS);
  }, 60_000);
});
