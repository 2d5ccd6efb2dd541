import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { compactionJobId } from '../../shared/jobs/job-id.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const THRESHOLD_TOKENS = 150;
/** More multiples of the threshold than the turns below reach before their first compaction. */
const MULTIPLES = Array.from({ length: 20 }, (_, i) => i + 1);
const TURN = `${'some words about the topic '.repeat(8)}`;

/**
 * A conversation's compaction has an id its user can work out from what the API shows them
 * (the conversation's id and creation time), and a document may be named with any id: one
 * holding it first must not make the compaction fail, or dead-letter and page the operators.
 */
describe("a conversation's compaction job ids", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: String(THRESHOLD_TOKENS) },
    });
  });
  afterAll(() => stack?.close());

  /** The conversation's first turn, and the ids its first compaction may have. */
  async function startConversation(userId: string) {
    const events = await collectSse(await stack.chat(userId, { message: `Turn 0: ${TURN}` }));
    const conversationId = String(events[0]!.data.conversationId);
    const listed = await json(await stack.request(userId, 'GET', '/v1/conversations'));
    const { createdAt } = listed.conversations.find((c: { id: string }) => c.id === conversationId);
    const ids = MULTIPLES.map((multiple) =>
      compactionJobId(userId, { id: conversationId, createdAt }, 0, multiple),
    );
    return { conversationId, ids };
  }

  /** Turns until the conversation has a summary; throws if it never gets one. */
  async function talkUntilCompacted(userId: string, conversationId: string) {
    const key = { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' };
    for (let turn = 1; turn < 12; turn++) {
      await collectSse(
        await stack.chat(userId, { conversationId, message: `Turn ${turn}: ${TURN}` }),
      );
      const deadline = Date.now() + (turn < 5 ? 500 : 8_000);
      while (Date.now() < deadline) {
        const { Item } = await stack.documentClient.send(
          new GetCommand({ TableName: stack.tableName, Key: key }),
        );
        if (typeof Item?.summary === 'string') return Item;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw new Error(`conversation ${conversationId} was never compacted`);
  }

  async function deadLetters() {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    return Messages;
  }

  it('compacts a conversation whose compaction ids its user took first with documents, dead-lettering nothing and leaving the documents theirs', async () => {
    const userId = 'id-squatter';
    const { conversationId, ids } = await startConversation(userId);
    const jobs = new DynamoJobStore(stack.documentClient, stack.tableName);
    const nowIso = new Date().toISOString();
    for (const jobId of ids) {
      await jobs.create(
        { jobId, userId, type: 'summarize.document', contentHash: 'a'.repeat(64) },
        nowIso,
      );
    }

    await talkUntilCompacted(userId, conversationId);

    expect(await deadLetters()).toEqual([]);
    for (const jobId of ids) {
      expect(await jobs.get(userId, jobId)).toMatchObject({
        type: 'summarize.document',
        status: 'queued',
        contentHash: 'a'.repeat(64),
      });
    }
  }, 120_000);
});
