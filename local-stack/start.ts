/**
 * npm start: the product on this machine. The same handler modules as on AWS, on
 * DynamoDB Local, the SQS emulator and (without ANTHROPIC_API_KEY) the local Claude,
 * behind a local function URL and an SQS event-source mapping.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import './lambda-runtime/install-globals.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Handler } from 'aws-lambda';
import { MAINTENANCE_FUNCTION } from '../shared/config/maintenance-function.js';
import { ANTHROPIC_API_URL } from '../shared/config/settings.js';
import { JOBS_QUEUE_DEFINITION } from '../shared/jobs/queue-definition.js';
import { localCorsOrigins } from './cors-origins.js';
import { deployedFunctions } from './deployed-functions.js';
import { LOCAL_STACK, localStateDir } from './dev-settings.js';
import { signDevToken, tokenSigningFromEnv } from './dev-token.js';
import { ensureTable } from './dynamodb/create-table.js';
import { ensureDynamoDbLocal } from './dynamodb/install.js';
import { startDynamoDbLocal } from './dynamodb/server.js';
import { ensureLocalAwsEnv, localFunctionEnv } from './function-env.js';
import { productCors } from './lambda-runtime/cors.js';
import { startFunctionUrl } from './lambda-runtime/function-url.js';
import { startSchedule } from './lambda-runtime/schedule.js';
import { startSqsEventSource } from './lambda-runtime/sqs-event-source.js';
import { startLocalClaude } from './local-claude/index.js';
import { PortInUseError } from './ports.js';
import { ensureEventsTopic } from './sns/topics.js';
import { ensureJobQueues } from './sqs/queues.js';
import { startSqsEmulator } from './sqs/server.js';
import { type StackOutputs, writeStackOutputs } from './stack-outputs.js';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const stops: Array<() => Promise<void>> = [];

async function main() {
  ensureLocalAwsEnv();
  const stateDir = resolve(localStateDir());
  mkdirSync(stateDir, { recursive: true });

  await ensureDynamoDbLocal();
  const dynamodb = await startDynamoDbLocal({
    port: port('DYNAMODB_PORT', LOCAL_STACK.ports.dynamodb),
    dbPath: resolve(stateDir, 'dynamodb-data'),
  });
  stops.push(dynamodb.stop);
  const tableName = process.env.TABLE_NAME ?? LOCAL_STACK.tableName;
  await ensureTable(new DynamoDBClient({ endpoint: dynamodb.endpoint }), tableName);

  const sqsEmulator = await startSqsEmulator({ port: port('SQS_PORT', LOCAL_STACK.ports.sqs) });
  stops.push(sqsEmulator.stop);
  const sqs = new SQSClient({ endpoint: sqsEmulator.endpoint });
  const queues = await ensureJobQueues(sqs, {
    queueName: LOCAL_STACK.queueName,
    deadLetterQueueName: LOCAL_STACK.deadLetterQueueName,
  });
  // The emulator serves SNS on the same endpoint as SQS.
  const eventsTopicArn = await ensureEventsTopic(
    new SNSClient({ endpoint: sqsEmulator.endpoint }),
    LOCAL_STACK.eventsTopicName,
  );

  const realClaude = Boolean(process.env.ANTHROPIC_API_KEY);
  const localClaude = realClaude
    ? undefined
    : await startLocalClaude({ port: port('LOCAL_CLAUDE_PORT', LOCAL_STACK.ports.localClaude) });
  if (localClaude) stops.push(localClaude.close);

  // The functions read their settings from the environment at import, as on AWS.
  Object.assign(
    process.env,
    localFunctionEnv(
      {
        tableName,
        dynamodbEndpoint: dynamodb.endpoint,
        queueUrl: queues.queueUrl,
        deadLetterQueueUrl: queues.deadLetterQueueUrl,
        sqsEndpoint: sqsEmulator.endpoint,
        eventsTopicArn,
        ...(localClaude && { localClaudeUrl: localClaude.url }),
      },
      process.env,
    ),
  );
  const chat = await import('../functions/chat/handler.js');
  const worker = await import('../functions/worker/handler.js');
  const maintenance = await import('../functions/maintenance/handler.js');

  const corsOrigins = localCorsOrigins();
  const deployed = deployedFunctions();
  const functionUrl = await startFunctionUrl({
    handler: chat.handler as unknown as Handler,
    port: port('PORT', LOCAL_STACK.ports.functionUrl),
    functionName: LOCAL_STACK.chatFunction.name,
    ...deployed.chat,
    ...(corsOrigins.length > 0 && {
      cors: productCors(corsOrigins, process.env.AUTH_TOKEN_HEADER ?? 'authorization'),
    }),
  });
  stops.push(functionUrl.close);
  const eventSource = startSqsEventSource({
    client: sqs,
    queueUrl: queues.queueUrl,
    handler: worker.handler as Handler,
    batchSize: JOBS_QUEUE_DEFINITION.batchSize,
    maxBatchingWindowMs: JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds * 1000,
    functionName: LOCAL_STACK.workerFunction.name,
    ...deployed.worker,
  });
  stops.unshift(eventSource.stop);
  const schedule = startSchedule({
    handler: maintenance.handler as Parameters<typeof startSchedule>[0]['handler'],
    functionName: LOCAL_STACK.maintenanceFunction.name,
    everyMs: MAINTENANCE_FUNCTION.everyMinutes * 60_000,
    ...deployed.maintenance,
  });
  stops.unshift(schedule.stop);

  const outputs: StackOutputs = {
    functionUrl: `${functionUrl.url}/`,
    tableName,
    dynamodbEndpoint: dynamodb.endpoint,
    queueUrl: queues.queueUrl,
    deadLetterQueueUrl: queues.deadLetterQueueUrl,
    sqsEndpoint: sqsEmulator.endpoint,
    eventsTopicArn,
    snsEndpoint: sqsEmulator.endpoint,
    claude: localClaude
      ? { mode: 'local', url: localClaude.url }
      : { mode: 'anthropic', url: process.env.ANTHROPIC_BASE_URL ?? ANTHROPIC_API_URL },
  };
  writeStackOutputs(outputs);
  await printBanner(outputs, realClaude);
}

async function printBanner(
  outputs: { functionUrl: string; claude: { url: string } },
  realClaude: boolean,
) {
  // Signed as the functions, which read these settings from this process, check it.
  const token = await signDevToken('dev-user', tokenSigningFromEnv());
  const url = outputs.functionUrl.replace(/\/$/, '');
  console.log(`
Local stack is up.
  Function URL   ${url}
  Playground     ${url}/#token=${token}
                 (a chat page on the AI SDK's useChat; the token stays in the URL fragment,
                 which the browser never sends to a server)
  Claude         ${realClaude ? `the Anthropic API (${outputs.claude.url}) — real tokens, real cost` : `the built-in local Claude at ${outputs.claude.url} (set ANTHROPIC_API_KEY to use the real API)`}
  Endpoints      ${join(localStateDir(), 'outputs.json')}

Get a token:     npm run --silent token -- <userId>
Stream a reply:
  curl -N ${url}/v1/chat \\
    -H "authorization: Bearer ${token}" \\
    -H "content-type: application/json" \\
    -d '{"message":"Hello, Claude"}'

Ctrl-C stops everything.`);
}

async function shutdown(code: number) {
  for (const stop of stops.splice(0)) {
    await stop().catch((error: unknown) => console.error(`while stopping: ${String(error)}`));
  }
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
main().catch(async (error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof PortInUseError) {
    console.error(
      'Ports are set by PORT, DYNAMODB_PORT, SQS_PORT and LOCAL_CLAUDE_PORT, e.g. PORT=3001 npm start',
    );
  }
  await shutdown(1);
});
