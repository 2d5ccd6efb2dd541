import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Items every Query the chat function sends reads (what DynamoDB charges for, filtered or not). */
function countScannedItems(client: DynamoDBClient, scanned: { items: number }): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') {
        scanned.items += Number((result.output as { ScannedCount?: number }).ScannedCount ?? 0);
      }
      return result;
    },
    { step: 'initialize', name: 'countScannedItems' },
  );
}

/**
 * An edit or a regenerate names a message by its id. Looking it up must not read the whole
 * history: a request naming an id the conversation does not have is refused before any
 * admission (nothing counts it), and a long conversation's history is megabytes.
 */
describe('naming a message to edit or regenerate', () => {
  let stack: TestStack;
  const scanned = { items: 0 };
  const userId = 'long-talker';
  let conversationId: string;
  let ids: string[];
  const SUMMARIZED = 20;

  beforeAll(async () => {
    stack = await startTestStack({
      observeChatDynamoDb: (client) => countScannedItems(client, scanned),
    });
    let id: string | undefined;
    for (let i = 0; i < 12; i++) {
      const events = await collectSse(
        await stack.chat(userId, { message: `Q${i}`, ...(id && { conversationId: id }) }),
      );
      id = String(events[0]!.data.conversationId);
    }
    conversationId = id!;
    // A compaction folded the first 20 of its 24 messages into its summary.
    await stack.documentClient.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
        UpdateExpression: 'SET summary = :s, summaryThroughSeq = :t',
        ExpressionAttributeValues: { ':s': 'Twelve questions.', ':t': SUMMARIZED },
      }),
    );
    const { messages } = await json(
      await stack.request(userId, 'GET', `/v1/conversations/${conversationId}?limit=100`),
    );
    ids = messages.map((message: { id: string }) => message.id);
  }, 60_000);
  afterAll(() => stack.close());
  beforeEach(() => {
    scanned.items = 0;
  });

  it('reads only what follows the summary (and its last message) for an id the conversation does not have', async () => {
    const edit = await stack.chat(userId, {
      conversationId,
      message: 'Q11, asked otherwise',
      replaces: 'msg_0123456789abcdef0123456789abcdef',
    });

    expect(edit.status).toBe(409);
    expect((await json(edit)).error.message).toMatch(/summarized already/);
    expect(scanned.items).toBeLessThanOrEqual(ids.length - SUMMARIZED + 1);
  });

  it('refuses to replace a message the summary folded, reading only what follows it', async () => {
    const edit = await stack.chat(userId, {
      conversationId,
      message: 'Q0, asked otherwise',
      replaces: ids[0],
    });

    expect(edit.status).toBe(409);
    expect(scanned.items).toBeLessThanOrEqual(ids.length - SUMMARIZED + 1);
  });

  it('still finds a message after the summary', async () => {
    const regenerate = await stack.request(
      userId,
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      { messageId: ids[SUMMARIZED + 1] },
    );

    expect(regenerate.status).toBe(200);
    await regenerate.text();
  });
});
