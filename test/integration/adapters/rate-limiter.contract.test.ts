import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoRateLimiter } from '../../../shared/adapters/dynamodb/rate-limiter.js';
import { rateLimiterContract } from '../../contracts/rate-limiter.contract.js';

describe('DynamoRateLimiter on DynamoDB Local', () => {
  const tableName = `contract-rates-${randomUUID().slice(0, 8)}`;
  let documentClient: DynamoDBDocumentClient;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    await ensureTable(client, tableName);
    documentClient = createDocumentClient(client);
  });

  rateLimiterContract(async () => new DynamoRateLimiter(documentClient, tableName));
});
