import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Handler } from 'aws-lambda';
import { inject } from 'vitest';
import { createChatHandler } from '../../../functions/chat/app.js';
import { buildChatDependencies } from '../../../functions/chat/build-dependencies.js';
import { createWorkerHandler } from '../../../functions/worker/app.js';
import { buildWorkerDependencies } from '../../../functions/worker/build-dependencies.js';
import { signDevToken } from '../../../local-stack/dev-token.js';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv, localFunctionEnv } from '../../../local-stack/function-env.js';
import { startFunctionUrl } from '../../../local-stack/lambda-runtime/function-url.js';
import { startSqsEventSource } from '../../../local-stack/lambda-runtime/sqs-event-source.js';
import {
  type LocalClaude,
  type LocalClaudeOptions,
  startLocalClaude,
} from '../../../local-stack/local-claude/index.js';
import { ensureJobQueues } from '../../../local-stack/sqs/queues.js';
import { loadSettings } from '../../../shared/config/load-settings.js';
import { JOBS_QUEUE_DEFINITION } from '../../../shared/jobs/queue-definition.js';

export interface TestStackOptions {
  /** Settings (environment variables) of the functions, over the local defaults. */
  env?: Record<string, string>;
  claude?: LocalClaudeOptions;
  /** Run the worker on the jobs queue, as the event-source mapping does. */
  worker?: boolean;
  /** The chat function's timeout. @default 60000 */
  chatTimeoutMs?: number;
  queue?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
}

export interface TestStack {
  url: string;
  claude: LocalClaude;
  tableName: string;
  documentClient: DynamoDBDocumentClient;
  sqs: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
  token(userId: string): Promise<string>;
  /** An authenticated request as `userId`; a JSON body is serialized. */
  request(userId: string, method: string, path: string, body?: unknown): Promise<Response>;
  chat(userId: string, body: Record<string, unknown>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The product on the local stack, for one test file: its own table and queues on the
 * shared emulators, a local Claude, and the real handlers behind a local function URL.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  ensureLocalAwsEnv();
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const dynamodbEndpoint = inject('dynamodbEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
  const id = randomUUID().slice(0, 8);
  const tableName = `test-${id}`;
  const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint });
  const sqs = new SQSClient({ endpoint: sqsEndpoint });
  await ensureTable(dynamodb, tableName);
  const { queueUrl, deadLetterQueueUrl } = await ensureJobQueues(sqs, {
    queueName: `jobs-${id}`,
    deadLetterQueueName: `jobs-dlq-${id}`,
    ...options.queue,
  });
  const claude = await startLocalClaude({
    tokensPerSecond: 0,
    timeToFirstTokenMs: 0,
    ...options.claude,
  });

  const env = localFunctionEnv(
    {
      tableName,
      dynamodbEndpoint,
      queueUrl,
      deadLetterQueueUrl,
      sqsEndpoint,
      localClaudeUrl: claude.url,
    },
    options.env,
  );
  const chatTimeoutMs = options.chatTimeoutMs ?? 60_000;
  const functionUrl = await startFunctionUrl({
    handler: createChatHandler(buildChatDependencies(loadSettings(env))) as Handler,
    functionName: 'chat',
    timeoutMs: chatTimeoutMs,
  });
  const worker = options.worker
    ? startSqsEventSource({
        client: sqs,
        queueUrl,
        handler: createWorkerHandler(buildWorkerDependencies(loadSettings(env))) as Handler,
        batchSize: JOBS_QUEUE_DEFINITION.batchSize,
        maxBatchingWindowMs: 100,
        functionName: 'worker',
        timeoutMs: JOBS_QUEUE_DEFINITION.workerTimeoutSeconds * 1000,
      })
    : undefined;

  const token = (userId: string) => signDevToken(userId);
  const request = async (userId: string, method: string, path: string, body?: unknown) =>
    fetch(`${functionUrl.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(userId)}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return {
    url: functionUrl.url,
    claude,
    tableName,
    documentClient: DynamoDBDocumentClient.from(dynamodb),
    sqs,
    queueUrl,
    deadLetterQueueUrl,
    token,
    request,
    chat: (userId, body) => request(userId, 'POST', '/v1/chat', body),
    close: async () => {
      await worker?.stop();
      await functionUrl.close();
      await claude.close();
    },
  };
}
