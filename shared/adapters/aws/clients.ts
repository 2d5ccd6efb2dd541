import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Hooks a client before use, e.g. Tracer's `captureAWSv3Client`. */
export type Instrument = <T>(client: T) => T;

const asIs: Instrument = (client) => client;

/** @param endpoint set only on the local stack (DynamoDB Local) */
export function createDynamoDbClient(endpoint?: string, instrument = asIs): DynamoDBClient {
  return instrument(new DynamoDBClient(endpoint ? { endpoint } : {}));
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * @param endpoint set only on the local stack: the emulator's queue URLs name a host
 *   that does not resolve, so the client must be pointed at it explicitly.
 */
export function createSqsClient(endpoint?: string, instrument = asIs): SQSClient {
  return instrument(new SQSClient(endpoint ? { endpoint } : {}));
}
