import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { ensureTable } from '../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv, localFunctionEnv } from '../../local-stack/function-env.js';
import { createLambdaContext } from '../../local-stack/lambda-runtime/context.js';
import { settleWithin } from '../../local-stack/lambda-runtime/timeout.js';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { budgetNoticeKeys } from '../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { loadSettings } from '../../shared/config/load-settings.js';
import { monthOf } from '../../shared/domain/budget.js';

const USAGE = {
  inputTokens: 1_000,
  outputTokens: 100,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};
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
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    tableName = `budget-checks-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
  });

  it("announces every spender's crossed threshold and returns before its timeout", async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const records = new DynamoUsageRecords(documentClient, tableName);
    const run = randomUUID().slice(0, 8);
    const spenders = Array.from({ length: SPENDERS }, (_, i) => `spender-${run}-${i}`);
    // Each has spent 60% of the default budget ($10): their 50% is to be announced.
    for (let i = 0; i < SPENDERS; i += 20) {
      await Promise.all(
        spenders.slice(i, i + 20).map(async (userId) => {
          const reservation = await ledger.reserve({
            userId,
            amountNanoUsd: 6_000_000_000,
            userDefaultBudgetNanoUsd: 10_000_000_000,
            globalBudgetNanoUsd: 1_000_000_000_000,
            nowMs,
            expiresAtMs: nowMs + 60_000,
          });
          await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 6_000_000_000 });
          await records.record({
            requestId: `req-${randomUUID()}`,
            at: new Date(nowMs).toISOString(),
            principal: userId,
            api: 'chat',
            model: 'claude-sonnet-4-6',
            usage: USAGE,
            costNanoUsd: 6_000_000_000,
            latencyMs: 1_000,
            cacheHit: false,
          });
        }),
      );
    }

    const settings = loadSettings(
      localFunctionEnv(
        {
          tableName,
          dynamodbEndpoint: inject('dynamodbEndpoint'),
          queueUrl: 'http://localhost:1/000000000000/unused',
          deadLetterQueueUrl: 'http://localhost:1/000000000000/unused-dlq',
          sqsEndpoint: 'http://localhost:1',
        },
        { USER_MONTHLY_BUDGET_USD: '10', GLOBAL_MONTHLY_BUDGET_USD: '100000' },
      ),
      { role: 'maintenance' },
    );
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
      handler(
        { 'detail-type': 'Scheduled Event' } as ScheduledEvent,
        createLambdaContext({ functionName: 'maintenance', timeoutMs: TIMEOUT_MS }),
      ).catch((error: unknown) => ({ failed: String(error) })),
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
