import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv, localFunctionEnv } from '../../../local-stack/function-env.js';
import { createLambdaContext } from '../../../local-stack/lambda-runtime/context.js';
import { createDynamoDbClient } from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { loadSettings, type Settings } from '../../../shared/config/load-settings.js';

/**
 * The maintenance function's settings on DynamoDB Local's table `tableName` (it sends to no
 * queue: theirs point nowhere), with `overrides` of its environment.
 */
export function maintenanceSettings(
  tableName: string,
  overrides: Record<string, string> = {},
): Settings {
  return loadSettings(
    localFunctionEnv(
      {
        tableName,
        dynamodbEndpoint: inject('dynamodbEndpoint'),
        queueUrl: 'http://localhost:1/000000000000/unused',
        deadLetterQueueUrl: 'http://localhost:1/000000000000/unused-dlq',
        sqsEndpoint: 'http://localhost:1',
      },
      overrides,
    ),
    { role: 'maintenance' },
  );
}

/** One scheduled invocation of the maintenance handler, as EventBridge and Lambda make it. */
export function scheduledRun<T>(
  handler: (event: ScheduledEvent, context: ReturnType<typeof createLambdaContext>) => T,
  timeoutMs: number,
): T {
  return handler(
    { 'detail-type': 'Scheduled Event' } as ScheduledEvent,
    createLambdaContext({ functionName: 'maintenance', timeoutMs }),
  );
}

/** A new table on DynamoDB Local for one test file, the functions' logs and metrics quiet. */
export async function maintenanceTable(
  prefix: string,
): Promise<{ client: DynamoDBClient; tableName: string }> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  ensureLocalAwsEnv();
  const client = createDynamoDbClient(inject('dynamodbEndpoint'));
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  return { client, tableName };
}

const USAGE = {
  inputTokens: 1_000,
  outputTokens: 100,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/**
 * A chat call of `userId` costing `costNanoUsd` at `nowMs`, reserved, settled and recorded: in
 * the month's ledger and in its usage report, where the sweep's budget checks find its spender.
 */
export async function settledChatCall(
  documentClient: DynamoDBDocumentClient,
  tableName: string,
  call: { userId: string; costNanoUsd: number; nowMs: number },
): Promise<void> {
  const { userId, costNanoUsd, nowMs } = call;
  const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
  const reservation = await ledger.reserve({
    userId,
    amountNanoUsd: costNanoUsd,
    userDefaultBudgetNanoUsd: 1_000_000_000_000,
    globalBudgetNanoUsd: 1_000_000_000_000,
    nowMs,
    expiresAtMs: nowMs + 60_000,
  });
  await ledger.settle(reservation, { usage: USAGE, costNanoUsd });
  await new DynamoUsageRecords(documentClient, tableName).record({
    requestId: `req-${randomUUID()}`,
    at: new Date(nowMs).toISOString(),
    principal: userId,
    api: 'chat',
    model: 'claude-sonnet-4-6',
    usage: USAGE,
    costNanoUsd,
    latencyMs: 1_000,
    cacheHit: false,
  });
}
