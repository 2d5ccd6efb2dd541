import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
  createUninstrumentedTwin,
} from '../../../shared/adapters/aws/clients.js';

/**
 * DynamoDB refuses a single write to an item a transaction is writing at that moment with
 * TransactionConflictException; DynamoDB Local never does. Injected here as DynamoDB would
 * answer, inside the SDK's retry loop.
 */
describe('our DynamoDB clients, when a write meets a transaction on its item', () => {
  const endpoint = () => inject('dynamodbEndpoint');
  let tableName: string;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    tableName = `conflicts-${randomUUID().slice(0, 8)}`;
    await ensureTable(createDynamoDbClient(endpoint()), tableName);
  });

  const conflicting = (client: DynamoDBClient) => {
    const injected = { conflictsLeft: 0, attempts: 0 };
    client.middlewareStack.add(
      (next) => async (args) => {
        injected.attempts++;
        if (injected.conflictsLeft > 0) {
          injected.conflictsLeft--;
          throw new TransactionConflictException({
            message: 'Transaction is ongoing for the item',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'deserialize', name: 'transactionConflictAsDynamoDb' },
    );
    return injected;
  };
  const increment = (client: DynamoDBClient, key: { pk: string; sk: string }) =>
    createDocumentClient(client).send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'ADD hits :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  let key: { pk: string; sk: string };
  beforeEach(() => {
    key = { pk: `ITEM#${randomUUID()}`, sk: 'X' };
  });

  it.each([
    ['the client', () => createDynamoDbClient(endpoint())],
    [
      'its uninstrumented twin',
      () => createUninstrumentedTwin(createDynamoDbClient(endpoint()), endpoint()),
    ],
  ])('%s sends the refused write again, and it lands once', async (_, clientOf) => {
    const client = clientOf();
    const injected = conflicting(client);
    injected.conflictsLeft = 1;

    await increment(client, key);

    expect(injected.attempts).toBe(2);
    const { Item } = await createDocumentClient(client).send(
      new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    );
    expect(Item?.hits).toBe(1);
  });

  it('gives up after the SDK’s attempts when the transaction goes on', async () => {
    const client = createDynamoDbClient(endpoint());
    const injected = conflicting(client);
    injected.conflictsLeft = 10;

    await expect(increment(client, key)).rejects.toBeInstanceOf(TransactionConflictException);
    expect(injected.attempts).toBe(await client.config.maxAttempts());
  });
});
