import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../local-stack/dynamodb/server.js';
import { findFreePort } from '../../../local-stack/ports.js';
import { TABLE_DEFINITION } from '../../../shared/table/definition.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientFor = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });

let dynamodb: DynamoDbLocal;
let client: DynamoDBClient;

// One JVM for the file: it takes seconds to start.
beforeAll(async () => {
  dynamodb = await startDynamoDbLocal({ port: await findFreePort() });
  client = clientFor(dynamodb.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await dynamodb?.stop();
});

describe('ensureTable on DynamoDB Local', () => {
  it('creates the keys, GSI, on-demand billing and TTL of the shared definition', async () => {
    await ensureTable(client, 'conversations');

    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'conversations' }));
    const { partitionKey, sortKey, globalSecondaryIndexes, timeToLiveAttribute } = TABLE_DEFINITION;
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const [gsiDefinition] = globalSecondaryIndexes;
    const gsi = Table?.GlobalSecondaryIndexes?.find(
      (index) => index.IndexName === gsiDefinition.indexName,
    );
    expect(gsi?.KeySchema).toEqual([
      { AttributeName: gsiDefinition.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: gsiDefinition.sortKey.name, KeyType: 'RANGE' },
    ]);
    expect(gsi?.Projection?.ProjectionType).toBe(gsiDefinition.projection);
    const attributeNames = Table?.AttributeDefinitions?.map((a) => a.AttributeName).sort();
    expect(attributeNames).toEqual(
      [
        partitionKey.name,
        sortKey.name,
        gsiDefinition.partitionKey.name,
        gsiDefinition.sortKey.name,
      ].sort(),
    );

    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: 'conversations' }),
    );
    expect(TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: timeToLiveAttribute,
    });
  });

  it('leaves an existing table and its items alone', async () => {
    await ensureTable(client, 'idempotent');
    const key = { pk: { S: 'USER#1' }, sk: { S: 'PROFILE' } };
    await client.send(new PutItemCommand({ TableName: 'idempotent', Item: key }));

    await ensureTable(client, 'idempotent');

    const { Item } = await client.send(new GetItemCommand({ TableName: 'idempotent', Key: key }));
    expect(Item).toEqual(key);
  });
});

describe('DynamoDB Local', () => {
  it('refuses a port that is taken, naming it', async () => {
    const port = Number(new URL(dynamodb.endpoint).port);
    await expect(startDynamoDbLocal({ port })).rejects.toMatchObject({
      name: 'PortInUseError',
      message: expect.stringContaining(`Port ${port} is already in use`),
    });
  });

  it('keeps the data across a restart when given a dbPath', async () => {
    const dbPath = await mkdtemp(join(tmpdir(), 'dynamodb-data-'));
    const key = { pk: { S: 'USER#2' }, sk: { S: 'PROFILE' } };
    try {
      const first = await startDynamoDbLocal({ port: await findFreePort(), dbPath });
      const firstClient = clientFor(first.endpoint);
      await ensureTable(firstClient, 'persisted');
      await firstClient.send(new PutItemCommand({ TableName: 'persisted', Item: key }));
      firstClient.destroy();
      await first.stop();

      const second = await startDynamoDbLocal({ port: await findFreePort(), dbPath });
      const secondClient = clientFor(second.endpoint);
      try {
        const { Item } = await secondClient.send(
          new GetItemCommand({ TableName: 'persisted', Key: key }),
        );
        expect(Item).toEqual(key);
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      await rm(dbPath, { recursive: true, force: true });
    }
  });
});
