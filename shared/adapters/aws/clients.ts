import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** @param endpoint set only on the local stack (DynamoDB Local) */
export function createDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint } : {}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * @param endpoint set only on the local stack: the emulator's queue URLs name a host
 *   that does not resolve, so the client must be pointed at it explicitly.
 */
export function createSqsClient(endpoint?: string): SQSClient {
  return new SQSClient(endpoint ? { endpoint } : {});
}
