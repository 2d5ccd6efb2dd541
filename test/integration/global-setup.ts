import type { TestProject } from 'vitest/node';
import { ensureDynamoDbLocal } from '../../local-stack/dynamodb/install.js';
import { startDynamoDbLocal } from '../../local-stack/dynamodb/server.js';
import { ensureLocalAwsEnv } from '../../local-stack/function-env.js';
import { findFreePort } from '../../local-stack/ports.js';
import { startSqsEmulator } from '../../local-stack/sqs/server.js';
import { awayFromMonthEnd } from './support/wall-clock-windows.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

/** Longer than a whole run of the suite, on a machine of the kind CI uses. */
const MONTH_END_MARGIN_MS = 15 * 60_000;

/** Starts DynamoDB Local and the SQS emulator once per run; each test file makes its own table and queues. */
export default async function setup(project: TestProject) {
  await awayFromMonthEnd(MONTH_END_MARGIN_MS, (waitMs) =>
    console.log(
      `a month ends in ${Math.ceil(waitMs / 1000)} s: waiting for it, as tests read this month's spend`,
    ),
  );
  ensureLocalAwsEnv();
  await ensureDynamoDbLocal();
  const [dynamodb, sqs] = await Promise.all([
    startDynamoDbLocal({ port: await findFreePort() }),
    startSqsEmulator({ port: await findFreePort() }),
  ]);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.all([dynamodb.stop(), sqs.stop()]);
  };
}
