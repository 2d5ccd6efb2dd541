import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

describe('the conversation API', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  const newConversation = async (userId: string, message: string) =>
    String((await collectSse(await stack.chat(userId, { message })))[0]!.data.conversationId);

  it('lists conversations newest activity first, a page at a time', async () => {
    const first = await newConversation('lister', 'first conversation');
    const second = await newConversation('lister', 'second conversation');
    await collectSse(
      await stack.chat('lister', { conversationId: first, message: 'back to the first' }),
    );

    const page1 = await json(await stack.request('lister', 'GET', '/v1/conversations?limit=1'));
    expect(page1.conversations).toHaveLength(1);
    expect(page1.conversations[0]).toMatchObject({
      id: first,
      title: 'first conversation',
      messageCount: 4,
    });
    const page2 = await json(
      await stack.request('lister', 'GET', `/v1/conversations?limit=1&cursor=${page1.nextCursor}`),
    );
    expect(page2.conversations.map((c: { id: string }) => c.id)).toEqual([second]);
  });

  it('pages through messages in order', async () => {
    const id = await newConversation('pager', 'one');
    await collectSse(await stack.chat('pager', { conversationId: id, message: 'two' }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await json(
        await stack.request(
          'pager',
          'GET',
          `/v1/conversations/${id}?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        ),
      );
      seen.push(...page.messages.map((m: { role: string }) => m.role));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('pages past regenerated answers with no empty page, and lists them with include=superseded', async () => {
    const id = await newConversation('regenerator', 'one');
    for (let i = 0; i < 3; i++) {
      await collectSse(
        await stack.request('regenerator', 'POST', `/v1/conversations/${id}/regenerate`, {}),
      );
    }
    await collectSse(await stack.chat('regenerator', { conversationId: id, message: 'two' }));
    const pagesOf = async (query: string) => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await json(
          await stack.request(
            'regenerator',
            'GET',
            `/v1/conversations/${id}?limit=1${query}${cursor ? `&cursor=${cursor}` : ''}`,
          ),
        );
        pages.push(page.messages.map((m: { role: string }) => m.role));
        cursor = page.nextCursor;
      } while (cursor);
      return pages;
    };

    expect(await pagesOf('')).toEqual([['user'], ['assistant'], ['user'], ['assistant']]);
    expect((await pagesOf('&include=superseded')).flat()).toHaveLength(7);
  });

  it('rejects a bad cursor and a bad limit with 400', async () => {
    const badCursor = await stack.request('pager', 'GET', '/v1/conversations?cursor=not-a-cursor');
    expect(badCursor.status).toBe(400);
    const badLimit = await stack.request('pager', 'GET', '/v1/conversations?limit=0');
    expect(badLimit.status).toBe(400);
    // Decimal digits only: Number() would read these as 16, 10 and 7.
    for (const limit of ['0x10', '1e1', '%207', '7.0']) {
      const response = await stack.request('pager', 'GET', `/v1/conversations?limit=${limit}`);
      expect(response.status, limit).toBe(400);
      expect((await json(response)).error.message, limit).toMatch(/whole number/);
    }
    const padded = await stack.request('pager', 'GET', '/v1/conversations?limit=07');
    expect(padded.status).toBe(200);
  });

  it('deletes every item of a conversation', async () => {
    const id = await newConversation('deleter', 'to be deleted');
    const response = await stack.request('deleter', 'DELETE', `/v1/conversations/${id}`);
    expect(response.status).toBe(204);
    const { Items } = await stack.documentClient.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `USER#deleter#CONV#${id}` },
      }),
    );
    expect(Items).toEqual([]);
    expect((await stack.request('deleter', 'GET', `/v1/conversations/${id}`)).status).toBe(404);
    expect((await stack.request('deleter', 'DELETE', `/v1/conversations/${id}`)).status).toBe(404);
  });

  it('cuts an overlong id in its 404 between whole characters, never in half an emoji', async () => {
    const id = `conv_${'\u{1F4AC}'.repeat(70)}`;

    const response = await stack.request(
      'reader',
      'GET',
      `/v1/conversations/${encodeURIComponent(id)}`,
    );

    expect(response.status).toBe(404);
    const { message } = (await json(response)).error;
    expect(message).toBe(`conversation "conv_${'\u{1F4AC}'.repeat(61)}…" does not exist`);
    expect(message.isWellFormed()).toBe(true);
  });

  it('quotes an overlong id cut in its 404, not whole', async () => {
    const id = `conv_${'x'.repeat(5_000)}`;

    const response = await stack.request('reader', 'GET', `/v1/conversations/${id}`);

    expect(response.status).toBe(404);
    expect((await json(response)).error.message).toBe(
      `conversation "${id.slice(0, 128)}…" does not exist`,
    );
  });
});
