import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoApiKeyStore } from '../../../shared/adapters/dynamodb/api-key-store.js';
import { CursorCodec } from '../../../shared/adapters/dynamodb/cursor.js';
import { apiKeyStoreContract } from '../../contracts/api-key-store.contract.js';
import { type DynamoDbRequest, recordDynamoDbRequests } from '../support/dynamodb-calls.js';

describe('DynamoApiKeyStore on DynamoDB Local', () => {
  let client: DynamoDBClient;
  const cursors = new CursorCodec(async () => 'a-test-signing-key');
  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
  });

  // A table per test: every key of a table is in the one list the tests read whole.
  apiKeyStoreContract(async () => {
    const tableName = `contract-api-keys-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    return { store: new DynamoApiKeyStore(createDocumentClient(client), tableName, cursors) };
  });

  // DynamoDB Local reads are always consistent; on AWS an eventually consistent read may miss
  // a key created a moment ago, and the authenticator would keep that miss for its cache TTL.
  it('reads a key it did not find again, strongly consistent', async () => {
    const requests: DynamoDbRequest[] = [];
    const recorded = createDynamoDbClient(inject('dynamodbEndpoint'));
    recordDynamoDbRequests(recorded, requests);
    const tableName = `contract-api-keys-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const store = new DynamoApiKeyStore(createDocumentClient(recorded), tableName, cursors);

    await store.findByHash('0'.repeat(64));

    expect(requests.map(({ operation, input }) => [operation, input.ConsistentRead])).toEqual([
      ['GetItem', undefined],
      ['GetItem', true],
    ]);
  });
});
