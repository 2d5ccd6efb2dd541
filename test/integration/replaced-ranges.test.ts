import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SUPERSEDED_RANGES } from '../../shared/domain/conversation.js';
import { answerText, collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * Each regenerate or edit adds a replaced range to the conversation's one item. Unbounded,
 * ~25,000 of them filled its 400 KB, and from then on every turn of the conversation, a
 * plain question too, failed with a 500 (DynamoDB refused the write that starts it).
 */
describe('a conversation whose answers were given again many times', () => {
  let stack: TestStack;
  const userId = 'regenerator';

  beforeAll(async () => {
    stack = await startTestStack();
  }, 60_000);
  afterAll(() => stack.close());

  /** A conversation of one question and answer that already replaced `count` ranges. */
  async function conversationWithReplaced(count: number) {
    const events = await collectSse(await stack.chat(userId, { message: 'Q1' }));
    const conversationId = String(events[0]!.data.conversationId);
    const key = { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' };
    // Ranges of messages that are not there: only their number matters here.
    const ranges = Array.from({ length: count }, (_, i) => [-(i + 1) * 10, -(i + 1) * 10 + 1]);
    await stack.documentClient.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: key,
        UpdateExpression: 'SET supersededRanges = :ranges',
        ExpressionAttributeValues: { ':ranges': ranges },
      }),
    );
    const rangesKept = async () => {
      const { Item } = await stack.documentClient.send(
        new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }),
      );
      return (Item?.supersededRanges as unknown[] | undefined)?.length;
    };
    return { conversationId, rangesKept };
  }

  const regenerate = (conversationId: string) =>
    stack.request(userId, 'POST', `/v1/conversations/${conversationId}/regenerate`, {});

  it('gives an answer again while under the limit', async () => {
    const { conversationId, rangesKept } = await conversationWithReplaced(
      MAX_SUPERSEDED_RANGES - 1,
    );

    const response = await regenerate(conversationId);

    expect(response.status).toBe(200);
    expect(answerText(await collectSse(response)).length).toBeGreaterThan(0);
    expect(await rangesKept()).toBe(MAX_SUPERSEDED_RANGES);
  });

  it('refuses another regenerate or edit at the limit with a 400, and still answers questions', async () => {
    const { conversationId, rangesKept } = await conversationWithReplaced(MAX_SUPERSEDED_RANGES);
    const { messages } = await json(
      await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
    );

    const again = await regenerate(conversationId);
    const edit = await stack.chat(userId, {
      conversationId,
      message: 'Q1, asked otherwise',
      replaces: messages[0].id,
    });
    const question = await stack.chat(userId, { conversationId, message: 'Q2' });

    expect(again.status).toBe(400);
    expect((await json(again)).error.message).toMatch(/2000 times.*new conversation/);
    expect(edit.status).toBe(400);
    await edit.text();
    expect(question.status).toBe(200);
    expect(answerText(await collectSse(question)).length).toBeGreaterThan(0);
    expect(await rangesKept()).toBe(MAX_SUPERSEDED_RANGES);
  });
});
