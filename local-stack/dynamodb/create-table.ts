import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITION } from '../../shared/table/definition.js';

interface KeyDefinition {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** The shape of `shared/table/definition.ts`, the single source of truth for the table. */
export interface TableShape {
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes: readonly {
    readonly indexName: string;
    readonly partitionKey: KeyDefinition;
    readonly sortKey?: KeyDefinition;
    readonly projection: 'ALL' | 'KEYS_ONLY';
  }[];
}

/**
 * Creates `tableName` from the shared table definition (keys, GSIs, on-demand billing)
 * unless it exists, waits until it is ACTIVE, and enables TTL on the definition's attribute.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  definition: TableShape = TABLE_DEFINITION,
): Promise<void> {
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
    } catch (error) {
      // Another process created it between DescribeTable and CreateTable.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
  }
  await waitUntilActive(client, tableName);
  if (definition.timeToLiveAttribute) {
    await enableTimeToLive(client, tableName, definition.timeToLiveAttribute);
  }
}

/** The CreateTable request for `definition`: every key attribute declared once, PAY_PER_REQUEST. */
export function createTableInput(
  tableName: string,
  definition: TableShape,
): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const keySchema = (partitionKey: KeyDefinition, sortKey?: KeyDefinition): KeySchemaElement[] => {
    const keys: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
    if (sortKey) keys.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
    for (const key of sortKey ? [partitionKey, sortKey] : [partitionKey]) {
      attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
    }
    return keys;
  };
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: index.projection },
    })),
  };
  input.AttributeDefinitions = [...attributes.values()];
  if (input.GlobalSecondaryIndexes?.length === 0) delete input.GlobalSecondaryIndexes;
  return input;
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  // The SDK waiter polls every 20 s at least; DynamoDB Local is ACTIVE at once, AWS within seconds.
  for (let attempt = 0; attempt < 300; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await sleep(200);
  }
  throw new Error(`Table ${tableName} did not become ACTIVE within 60 s`);
}

async function enableTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  attributeName: string,
): Promise<void> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if (
    (status === 'ENABLED' || status === 'ENABLING') &&
    TimeToLiveDescription?.AttributeName === attributeName
  ) {
    return;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: attributeName, Enabled: true },
    }),
  );
}
