import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_JOB_ANSWER_BYTES } from '../../../functions/worker/answer-size.js';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../../shared/adapters/dynamodb/conversation-store.js';
import { CursorCodec } from '../../../shared/adapters/dynamodb/cursor.js';
import { keys } from '../../../shared/adapters/dynamodb/keys.js';
import { PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { conversationStoreContract } from '../../contracts/conversation-store.contract.js';
import { type DynamoDbRequest, recordDynamoDbRequests } from '../support/dynamodb-calls.js';

describe('DynamoConversationStore on DynamoDB Local', () => {
  let store: DynamoConversationStore;
  let documents: ReturnType<typeof createDocumentClient>;
  let tableName: string;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    tableName = `contract-conversations-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    documents = createDocumentClient(client);
    store = new DynamoConversationStore(
      documents,
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );
  });

  conversationStoreContract(async () => ({ store }));

  // DynamoDB Local reads are always consistent; on AWS an eventually consistent query may miss
  // the answer stored a moment ago, which a regenerate names (useChat sends its id).
  it('finds a message by its id with a strongly consistent read', async () => {
    const requests: DynamoDbRequest[] = [];
    const recorded = createDynamoDbClient(inject('dynamodbEndpoint'));
    recordDynamoDbRequests(recorded, requests);
    const recording = new DynamoConversationStore(
      createDocumentClient(recorded),
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );

    await recording.findMessage('a-user', 'a-conversation', 'msg_none');

    expect(requests).toEqual([
      { operation: 'Query', input: expect.objectContaining({ ConsistentRead: true }) },
    ]);
  });

  // An eventually consistent sweep could miss the answer stored a moment before the delete:
  // it would outlive its conversation, and show in one made again under the same id.
  it('finds what a deleted conversation held with a strongly consistent query', async () => {
    const requests: DynamoDbRequest[] = [];
    const recorded = createDynamoDbClient(inject('dynamodbEndpoint'));
    recordDynamoDbRequests(recorded, requests);
    const recording = new DynamoConversationStore(
      createDocumentClient(recorded),
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );
    const conversationId = randomUUID();
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.conversation('a-user', conversationId), createdAt: '2026-01-01T00:00:00Z' },
      }),
    );

    expect(await recording.deleteConversation('a-user', conversationId)).toBe(true);

    const queries = requests.filter((request) => request.operation === 'Query');
    expect(queries).not.toHaveLength(0);
    for (const query of queries) expect(query.input.ConsistentRead).toBe(true);
  });

  describe('a summary and the 400 KB item limit', () => {
    /** A conversation item as a long life leaves it: a full title, 2,000 superseded ranges. */
    async function worn() {
      const userId = `u${'x'.repeat(127)}`;
      const conversationId = randomUUID();
      const createdAt = '2026-11-15T10:00:00.000Z';
      const supersededRanges = Array.from(
        { length: 2_000 },
        (_, i) => [100_000 + i * 4, 100_002 + i * 4] as const,
      );
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.conversation(userId, conversationId),
            conversationId,
            userId,
            title: '漢'.repeat(80),
            createdAt,
            updatedAt: createdAt,
            lastSeq: 200_000,
            messageCount: 200_000,
            uncompactedTokens: 1_000_000,
            supersededRanges,
          },
        }),
      );
      const basis = { createdAt, summaryThroughSeq: 0, supersededRanges };
      return { userId, conversationId, basis };
    }

    it('holds a summary as long as a model call keeps', async () => {
      const { userId, conversationId, basis } = await worn();
      const text = '漢'.repeat(Math.floor(MAX_JOB_ANSWER_BYTES / 3));

      const saved = await store.saveSummary(
        userId,
        conversationId,
        { text, throughSeq: 10, tokensCompacted: 100 },
        basis,
      );

      expect(saved).toBe('saved');
      expect((await store.getConversation(userId, conversationId))?.summary?.text).toBe(text);
    });

    it('refuses a summary it cannot hold as PayloadTooLargeError, which a retry cannot fix', async () => {
      const { userId, conversationId, basis } = await worn();

      await expect(
        store.saveSummary(
          userId,
          conversationId,
          { text: 'x'.repeat(400_000), throughSeq: 10, tokensCompacted: 100 },
          basis,
        ),
      ).rejects.toBeInstanceOf(PayloadTooLargeError);
    });
  });
});
