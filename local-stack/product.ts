import { randomUUID } from 'node:crypto';
import { streamify } from '@aws-lambda-powertools/event-handler/http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Handler } from 'aws-lambda';
import {
  type ChatAdapters,
  type ChatTuning,
  composeChatApp,
  createChatAdapters,
} from '../functions/chat/compose.js';
import type { WorkerAdapters } from '../functions/worker/compose.js';
import { loadSettings } from '../shared/config/load-settings.js';
import { JOBS_QUEUE_DEFINITION } from '../shared/jobs/queue-definition.js';
import { deployedFunctions } from './deployed-functions.js';
import { signDevToken } from './dev-token.js';
import { ensureTable } from './dynamodb/create-table.js';
import { ensureLocalAwsEnv, localFunctionEnv } from './function-env.js';
import { productCors } from './lambda-runtime/cors.js';
import { startFunctionUrl } from './lambda-runtime/function-url.js';
import { startSchedule } from './lambda-runtime/schedule.js';
import { startSqsEventSource } from './lambda-runtime/sqs-event-source.js';
import {
  type LocalClaude,
  type LocalClaudeOptions,
  startLocalClaude,
} from './local-claude/index.js';
import { ensureEventsTopic } from './sns/topics.js';
import { ensureJobQueues } from './sqs/queues.js';

export interface ProductOptions {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** Settings (environment variables) of the functions, over the local defaults. */
  env?: Record<string, string>;
  /** The deployed stack this one stands for: its metrics namespace. @default the default stackName */
  stackName?: string;
  claude?: LocalClaudeOptions;
  /**
   * An Anthropic-compatible server the functions call instead of the in-process local Claude
   * (which still starts, idle): the benchmark's, in another process.
   */
  anthropicBaseUrl?: string;
  /** Run the worker on the jobs queue, as the event-source mapping does. */
  worker?: boolean;
  /** Browser origins the function URL answers CORS for, as `corsAllowedOrigins` deploys it. @default none */
  corsAllowedOrigins?: string[];
  /** The chat function's timeout. @default 60000 */
  chatTimeoutMs?: number;
  /** The worker's timeout (its deadline). @default the stack's (`workerTimeoutSeconds`) */
  workerTimeoutMs?: number;
  queue?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
  /** Sees the chat function's DynamoDB client as it is made (tests count its calls). */
  observeChatDynamoDb?: (client: DynamoDBClient) => void;
  /** Replaces some of the chat function's adapters (the benchmark's baselines). */
  customizeChat?: (adapters: ChatAdapters) => ChatAdapters;
  /** Replaces some of the worker's adapters (tests stage a race at one of its writes). */
  customizeWorker?: (adapters: WorkerAdapters) => WorkerAdapters;
  /** Shorter timings for tests (pings, stop polling). */
  chatTuning?: ChatTuning;
  /** How often the maintenance sweep runs, as its schedule rule does. @default 60000 */
  maintenanceEveryMs?: number;
  /**
   * Run the maintenance sweep on its schedule. Off, its module is never loaded, so the
   * process holds the chat function alone, as a Lambda execution environment does (the
   * benchmark). @default true
   */
  maintenance?: boolean;
}

export interface Product {
  url: string;
  claude: LocalClaude;
  tableName: string;
  documentClient: DynamoDBDocumentClient;
  sqs: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** Producers subscribe to it (SNS on the emulator's endpoint, `sqsEndpoint`). */
  eventsTopicArn: string;
  sns: SNSClient;
  token(userId: string, options?: { admin?: boolean }): Promise<string>;
  /** An authenticated request as `userId`; a JSON body is serialized. */
  request(userId: string, method: string, path: string, body?: unknown): Promise<Response>;
  chat(userId: string, body: Record<string, unknown>): Promise<Response>;
  /** Runs the maintenance sweep now, as its schedule would. */
  sweep(): Promise<unknown>;
  close(): Promise<void>;
}

// The worker and the sweep are imported only when started: each is its own Lambda function.
async function workerHandler(
  settings: ReturnType<typeof loadSettings>,
  customize: (adapters: WorkerAdapters) => WorkerAdapters = (adapters) => adapters,
) {
  const { composeWorker, createWorkerAdapters } = await import('../functions/worker/compose.js');
  return composeWorker(settings, customize(createWorkerAdapters(settings)));
}

async function maintenanceHandler(settings: ReturnType<typeof loadSettings>) {
  const { composeMaintenance, createMaintenanceAdapters } = await import(
    '../functions/maintenance/compose.js'
  );
  return composeMaintenance(settings, createMaintenanceAdapters(settings));
}

/**
 * The product on running emulators, isolated by its own table and queues: the real
 * chat and worker handlers (built by their factories, so each instance can have its
 * own settings) behind a local function URL and event source, and a local Claude.
 * Tests and the benchmark use it; `npm start` imports the handler modules themselves.
 */
export async function startProduct(options: ProductOptions): Promise<Product> {
  ensureLocalAwsEnv();
  const id = randomUUID().slice(0, 8);
  const tableName = `product-${id}`;
  const dynamodb = new DynamoDBClient({ endpoint: options.dynamodbEndpoint });
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint });
  const sns = new SNSClient({ endpoint: options.sqsEndpoint });
  await ensureTable(dynamodb, tableName);
  const eventsTopicArn = await ensureEventsTopic(sns, `events-${id}`);
  const { queueUrl, deadLetterQueueUrl } = await ensureJobQueues(sqs, {
    queueName: `jobs-${id}`,
    deadLetterQueueName: `jobs-dlq-${id}`,
    ...options.queue,
  });
  const claude = await startLocalClaude({
    tokensPerSecond: 0,
    timeToFirstTokenMs: 0,
    // A test reads what reached upstream over its whole file; the stack lives as long.
    keptRequests: Number.POSITIVE_INFINITY,
    ...options.claude,
  });

  const env = localFunctionEnv(
    {
      tableName,
      dynamodbEndpoint: options.dynamodbEndpoint,
      queueUrl,
      deadLetterQueueUrl,
      sqsEndpoint: options.sqsEndpoint,
      eventsTopicArn,
      localClaudeUrl: options.anthropicBaseUrl ?? claude.url,
      ...(options.stackName && { stackName: options.stackName }),
    },
    options.env,
  );
  const chatSettings = loadSettings(env);
  const chatAdapters = createChatAdapters(chatSettings, {
    ...(options.observeChatDynamoDb && { observeDynamoDb: options.observeChatDynamoDb }),
  });
  // Its GET is then the local Claude's first request, never one among those a test counts.
  await chatAdapters.connectionAhead;
  const chatApp = composeChatApp(
    chatSettings,
    options.customizeChat?.(chatAdapters) ?? chatAdapters,
    options.chatTuning,
  );
  // The stack's defaults, whatever cdk.json sets: tests choose their own timeouts.
  const deployed = deployedFunctions({}, {});
  const functionUrl = await startFunctionUrl({
    handler: streamify(chatApp) as unknown as Handler,
    functionName: 'chat',
    timeoutMs: options.chatTimeoutMs ?? 60_000,
    memoryMb: deployed.chat.memoryMb,
    ...(options.corsAllowedOrigins && {
      cors: productCors(options.corsAllowedOrigins, chatSettings.authTokenHeader),
    }),
  });
  const worker = options.worker
    ? startSqsEventSource({
        client: sqs,
        queueUrl,
        handler: (await workerHandler(
          loadSettings(env, { role: 'worker' }),
          options.customizeWorker,
        )) as Handler,
        batchSize: JOBS_QUEUE_DEFINITION.batchSize,
        maxBatchingWindowMs: 100,
        functionName: 'worker',
        timeoutMs: options.workerTimeoutMs ?? deployed.worker.timeoutMs,
        memoryMb: deployed.worker.memoryMb,
      })
    : undefined;
  const maintenance =
    options.maintenance === false
      ? undefined
      : startSchedule({
          handler: await maintenanceHandler(loadSettings(env, { role: 'maintenance' })),
          functionName: 'maintenance',
          everyMs: options.maintenanceEveryMs ?? 60_000,
          ...deployed.maintenance,
        });

  const token = (userId: string, options: { admin?: boolean } = {}) =>
    signDevToken(userId, options);
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
    eventsTopicArn,
    sns,
    token,
    request,
    chat: (userId, body) => request(userId, 'POST', '/v1/chat', body),
    sweep: () => {
      if (!maintenance) throw new Error('this product was started without its maintenance sweep');
      return maintenance.runNow();
    },
    close: async () => {
      await maintenance?.stop();
      await worker?.stop();
      await functionUrl.close();
      await claude.close();
    },
  };
}
