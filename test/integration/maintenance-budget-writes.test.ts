import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { ensureTable } from '../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv, localFunctionEnv } from '../../local-stack/function-env.js';
import { createLambdaContext } from '../../local-stack/lambda-runtime/context.js';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { loadSettings } from '../../shared/config/load-settings.js';
import { type DynamoDbRequest, recordDynamoDbRequests } from './support/dynamodb-calls.js';

const USAGE = {
  inputTokens: 1_000,
  outputTokens: 100,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/**
 * What the minute sweep writes once a principal's budget thresholds are all announced: a
 * conditional write refused still costs a write unit, every minute for the rest of the month.
 */
describe('the budget checks of a warm maintenance function', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    tableName = `budget-writes-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
  });

  it('writes no notice again once each threshold crossed is announced', async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const userId = `spender-${randomUUID().slice(0, 8)}`;
    // A principal over their budget: 100% crossed, and so 50 and 80.
    const reservation = await ledger.reserve({
      userId,
      amountNanoUsd: 50_000_000,
      userDefaultBudgetNanoUsd: 1_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs,
      expiresAtMs: nowMs + 60_000,
    });
    await ledger.settle(reservation, { usage: USAGE, costNanoUsd: 20_000_000 });
    await ledger.setUserBudgetOverride(userId, 0.01, nowMs);
    await new DynamoUsageRecords(documentClient, tableName).record({
      requestId: `req-${randomUUID()}`,
      at: new Date(nowMs).toISOString(),
      principal: userId,
      api: 'chat',
      model: 'claude-sonnet-4-6',
      usage: USAGE,
      costNanoUsd: 20_000_000,
      latencyMs: 1_000,
      cacheHit: false,
    });

    const settings = loadSettings(
      localFunctionEnv({
        tableName,
        dynamodbEndpoint: inject('dynamodbEndpoint'),
        queueUrl: 'http://localhost:1/000000000000/unused',
        deadLetterQueueUrl: 'http://localhost:1/000000000000/unused-dlq',
        sqsEndpoint: 'http://localhost:1',
      }),
      { role: 'maintenance' },
    );
    const requests: DynamoDbRequest[] = [];
    const handler = composeMaintenance(
      settings,
      createMaintenanceAdapters(settings, {
        observeDynamoDb: (dynamodb) => recordDynamoDbRequests(dynamodb, requests),
      }),
    );
    const run = () =>
      handler(
        { 'detail-type': 'Scheduled Event' } as ScheduledEvent,
        createLambdaContext({ functionName: 'maintenance', timeoutMs: 50_000 }),
      );
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
