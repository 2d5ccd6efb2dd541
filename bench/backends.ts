import { ensureDynamoDbLocal } from '../local-stack/dynamodb/install.js';
import { startDynamoDbLocal } from '../local-stack/dynamodb/server.js';
import { ensureLocalAwsEnv } from '../local-stack/function-env.js';
import { findFreePort } from '../local-stack/ports.js';
import { startSqsEmulator } from '../local-stack/sqs/server.js';

/** Limits no bench turn reaches: the rows measure the checks, never a refusal. */
export const UNLIMITED_CHAT_ENV = {
  USER_REQUESTS_PER_MINUTE: '100000',
  USER_TOKENS_PER_MINUTE: '100000000',
  USER_MONTHLY_BUDGET_USD: '1000000',
  GLOBAL_MONTHLY_BUDGET_USD: '1000000',
};

/**
 * DynamoDB Local (its JVM tuned for throughput) and the SQS emulator the bench's chat process
 * runs on; this process's own Powertools kept quiet.
 */
export async function startBenchBackends() {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  ensureLocalAwsEnv();
  await ensureDynamoDbLocal();
  const dynamodb = await startDynamoDbLocal({
    port: await findFreePort(),
    optimizeFor: 'throughput',
  });
  const sqs = await startSqsEmulator({ port: await findFreePort() });
  return { dynamodb, sqs };
}
