import type { TestProject } from 'vitest/node';
import { ensureDynamoDbLocal } from '../../local-stack/dynamodb/install.js';
import { startDynamoDbLocal } from '../../local-stack/dynamodb/server.js';
import { ensureLocalAwsEnv } from '../../local-stack/function-env.js';
import { findFreePort } from '../../local-stack/ports.js';
import { startSqsEmulator } from '../../local-stack/sqs/server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

/** Starts DynamoDB Local and the SQS emulator once per run; each test file makes its own table and queues. */
export default async function setup(project: TestProject) {
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
