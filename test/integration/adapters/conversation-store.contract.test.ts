import { randomUUID } from 'node:crypto';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../../shared/adapters/dynamodb/conversation-store.js';
import { CursorCodec } from '../../../shared/adapters/dynamodb/cursor.js';
import { conversationStoreContract } from '../../contracts/conversation-store.contract.js';

describe('DynamoConversationStore on DynamoDB Local', () => {
  let store: DynamoConversationStore;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const tableName = `contract-conversations-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    store = new DynamoConversationStore(
      createDocumentClient(client),
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );
  });

  conversationStoreContract(async () => ({ store }));
});
