import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { usageRecordKeys } from '../../../shared/adapters/dynamodb/keys.js';
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

  it("keeps a record's inference geography, which its cost was priced by", async () => {
    const tableName = `usage-records-geo-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const documents = createDocumentClient(client);
    const at = '2026-11-15T10:00:00.000Z';
    const usage = {
      inputTokens: 100,
      outputTokens: 20,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      inferenceGeo: 'us',
    };

    await new DynamoUsageRecords(documents, tableName).record({
      requestId: 'req_geo',
      at,
      principal: 'alice',
      api: 'messages',
      model: 'claude-sonnet-4-6',
      usage,
      costNanoUsd: 1_100,
      latencyMs: 850,
      cacheHit: false,
    });

    const { Item } = await documents.send(
      new GetCommand({
        TableName: tableName,
        Key: usageRecordKeys.record('alice', '2026-11', at, 'req_geo'),
      }),
    );
    expect(Item?.usage).toStrictEqual(usage);
  });
});
