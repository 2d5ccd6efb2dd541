import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
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

/** One expired hold the sweep cannot give back must not cost the rest of the run. */
describe('a maintenance run that cannot reclaim one expired hold', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    tableName = `reclaim-failure-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
  });

  it('still checks the budgets, then fails the invocation saying why', async () => {
    const nowMs = Date.now();
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const userId = `spender-${randomUUID().slice(0, 8)}`;
    // A call that spent 60% of the user's budget ($10), and one whose caller died an hour ago.
    const spent = await ledger.reserve({
      userId,
      amountNanoUsd: 6_000_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs,
      expiresAtMs: nowMs + 60_000,
    });
    await ledger.settle(spent, { usage: USAGE, costNanoUsd: 6_000_000_000 });
    await new DynamoUsageRecords(documentClient, tableName).record({
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
    await ledger.reserve({
      userId: `dead-${randomUUID().slice(0, 8)}`,
      amountNanoUsd: 1_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs: nowMs - 3_600_000,
      expiresAtMs: nowMs - 1_800_000,
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

    const outcome = await handler(
      { 'detail-type': 'Scheduled Event' } as ScheduledEvent,
      createLambdaContext({ functionName: 'maintenance', timeoutMs: 50_000 }),
    ).then(
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
