import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { usageRecordsContract } from '../../contracts/usage-records.contract.js';

describe('DynamoUsageRecords on DynamoDB Local', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
  });

  // A table per test: a report reads every record of its month.
  usageRecordsContract(async () => {
    const tableName = `contract-usage-records-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    return { records: new DynamoUsageRecords(createDocumentClient(client), tableName) };
  });
});
