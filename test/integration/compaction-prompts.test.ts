import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

type SentBody = {
  system?: Array<{ text: string }>;
  messages: Array<{ role: string; content: Array<{ text: string }> }>;
};

interface Listed {
  id: string;
  seq: number;
  role: string;
  content: string;
}

describe('a compacted conversation', () => {
  let stack: TestStack;
  const userId = 'compacted';
  let conversationId: string;
  let summaryThroughSeq: number;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: { COMPACTION_THRESHOLD_TOKENS: '150' } });
    let id: string | undefined;
    for (let i = 0; i < 6; i++) {
      const events = await collectSse(
        await stack.chat(userId, {
          message: `Q${i}: ${'words about the topic '.repeat(8)}`,
          ...(id && { conversationId: id }),
        }),
      );
      id = String(events[0]!.data.conversationId);
    }
    conversationId = id!;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { Item } = await stack.documentClient.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
          ConsistentRead: true,
        }),
      );
      if (typeof Item?.summary === 'string') {
        summaryThroughSeq = Number(Item.summaryThroughSeq);
        break;
      }
      if (Date.now() > deadline) throw new Error('no summary saved');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 60_000);
  afterAll(() => stack.close());

  /** Its messages with their sequence numbers: none superseded, the nth is seq n. */
  const listed = async (): Promise<Listed[]> =>
    (
      await json(
        await stack.request(userId, 'GET', `/v1/conversations/${conversationId}?limit=100`),
      )
    ).messages.map((message: Omit<Listed, 'seq'>, index: number) => ({
      ...message,
      seq: index + 1,
    }));

  it('refuses to replace a message its summary holds, and replaces nothing', async () => {
    const before = await listed();
    const summarizedQuestion = before.find((m) => m.role === 'user')!;
    const summarizedAnswer = before.find((m) => m.role === 'assistant')!;
    expect(summarizedAnswer.seq).toBeLessThanOrEqual(summaryThroughSeq);

    const edit = await stack.chat(userId, {
      conversationId,
      message: 'Q0, asked otherwise',
      replaces: summarizedQuestion.id,
    });
    const regenerate = await stack.request(
      userId,
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      { messageId: summarizedAnswer.id },
    );

    expect([edit.status, regenerate.status]).toEqual([409, 409]);
    expect((await json(edit)).error.message).toMatch(/summarized already/);
    expect(await listed()).toEqual(before);
  });

  it('sends the summary and every message after it, once and in order', async () => {
    const before = await listed();
    await collectSse(await stack.chat(userId, { conversationId, message: 'And now?' }));

    // The last request may be the worker's next compaction: find the turn's own.
    const sent = stack.claude.requests
      .map((request) => request.body as SentBody)
      .findLast((body) => body.messages.at(-1)?.content.at(-1)?.text === 'And now?')!;
    expect(sent.system?.map((block) => block.text)).toEqual([
      expect.stringMatching(/^Summary of the earlier conversation:\n\S/),
    ]);
    expect(
      sent.messages.map((m) => [m.role, m.content.map((block) => block.text).join('')]),
    ).toEqual([
      ...before.filter((m) => m.seq > summaryThroughSeq).map((m) => [m.role, m.content]),
      ['user', 'And now?'],
    ]);
  });
});
