import { Chat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage, validateUIMessages } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiMessageMetadata } from '../../functions/chat/protocols/ui-message-stream.js';
import { conversationIdOfChat } from '../../functions/chat/routes/ui-chat-id.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A directive the local Claude reads from the message: a fault or pacing for this request. */
const directive = (text: string) => `[[local-claude: ${text}]]`;

type Message = UIMessage<UiMessageMetadata>;

const textOf = (message: Message | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');

/** A message as JSON carries it: the AI SDK's `undefined` fields (`providerMetadata`) gone. */
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** `useChat`'s own client, as README sets it up, with the messages a reopened chat starts from. */
async function chatAs(
  stack: TestStack,
  userId: string,
  options: { id?: string; messages?: Message[]; resumeMessageId?: string } = {},
) {
  const token = await stack.token(userId);
  return new Chat<Message>({
    ...(options.id && { id: options.id }),
    ...(options.messages && { messages: options.messages }),
    transport: new DefaultChatTransport({
      api: `${stack.url}/v1/ui/chat`,
      headers: { authorization: `Bearer ${token}` },
      prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
        body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
      }),
      // README's reopening: the resume names the answer the messages had as streaming.
      ...(options.resumeMessageId && {
        prepareReconnectToStreamRequest: ({ api, id }) => ({
          api: `${api}/${id}/stream?messageId=${options.resumeMessageId}`,
        }),
      }),
    }),
  });
}

/** A page of a chat's messages, as an app reads it (fetch), checked as the AI SDK takes them. */
async function readMessages(stack: TestStack, userId: string, chatId: string, query = '') {
  const response = await stack.request(userId, 'GET', `/v1/ui/chat/${chatId}/messages${query}`);
  expect(response.status, `${userId} ${chatId}${query}`).toBe(200);
  const page = (await json(response)) as { messages: Message[]; nextCursor?: string };
  // The AI SDK takes them as they are (it refuses an empty list, a new chat's).
  if (page.messages.length > 0) await validateUIMessages({ messages: page.messages });
  return page;
}

describe('GET /v1/ui/chat/{id}/messages: a chat reopened as useChat showed it', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ chatTuning: { stopPollIntervalMs: 50 } });
  });
  afterAll(() => stack.close());

  const storedMessages = (userId: string, chatId: string, query = '') =>
    readMessages(stack, userId, chatId, query);

  it("answers a chat's messages with the ids, parts and metadata the stream gave its answers", async () => {
    const chat = await chatAs(stack, 'uma', { id: 'uma-chat' });
    await chat.sendMessage({ text: 'First question' });
    await chat.sendMessage({ text: `Second question ${directive('tokens=12')}` });
    expect(chat.error).toBeUndefined();

    const { messages, nextCursor } = await storedMessages('uma', 'uma-chat');

    expect(nextCursor).toBeUndefined();
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    // Answers: as useChat holds them, metadata (conversation, model, stop reason, usage, cost) included.
    expect(messages[1]).toEqual(asJson(chat.messages[1]));
    expect(messages[3]).toEqual(asJson(chat.messages[3]));
    expect(messages[3]?.metadata).toMatchObject({
      conversationId: conversationIdOfChat('uma', 'uma-chat'),
      model: 'claude-sonnet-4-6',
      stopReason: 'end_turn',
      costUsd: expect.any(Number),
    });
    // Questions: their text, under the server's ids (which an edit names them by).
    const stored = await json(
      await stack.request(
        'uma',
        'GET',
        `/v1/conversations/${conversationIdOfChat('uma', 'uma-chat')}`,
      ),
    );
    expect(messages[0]).toEqual({
      id: stored.messages[0].id,
      role: 'user',
      parts: [{ type: 'text', text: 'First question' }],
    });
    expect(messages.map((m) => m.id)).toEqual(stored.messages.map((m: { id: string }) => m.id));
  });

  it('leaves out the answers a regenerate and the questions an edit replaced, and the reopened chat goes on', async () => {
    const chat = await chatAs(stack, 'vera', { id: 'vera-chat' });
    await chat.sendMessage({ text: `Answer me twice ${directive('reply=echo')}` });
    const replaced = chat.messages[1]!;
    await chat.regenerate();
    expect(chat.error).toBeUndefined();

    const { messages } = await storedMessages('vera', 'vera-chat');

    expect(messages.map((m) => m.id)).not.toContain(replaced.id);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]).toEqual(asJson(chat.messages[1]));

    // Reopened with them, an edit of the question by its id replaces it and its answer.
    const reopened = await chatAs(stack, 'vera', { id: 'vera-chat', messages });
    await reopened.sendMessage({ text: 'Answer me once', messageId: messages[0]!.id });
    expect(reopened.error).toBeUndefined();
    const edited = await storedMessages('vera', 'vera-chat');
    expect(edited.messages.map(textOf)).toEqual(['Answer me once', textOf(reopened.messages[1])]);
    expect(edited.messages[1]).toEqual(asJson(reopened.messages[1]));
  });

  it('keeps what a stopped and a failed answer had shown, with how they ended', async () => {
    const stopped = await chatAs(stack, 'wes', { id: 'wes-stopped' });
    const sending = stopped.sendMessage({ text: `A long story ${directive('tokens=200 tps=20')}` });
    await expect
      .poll(() => textOf(stopped.messages[1]).length, { timeout: 5_000 })
      .toBeGreaterThan(0);
    const conversationId = stopped.messages[1]!.metadata!.conversationId!;
    expect(
      (await stack.request('wes', 'POST', `/v1/conversations/${conversationId}/stop`)).status,
    ).toBe(202);
    await sending;
    const failed = await chatAs(stack, 'wes', { id: 'wes-failed' });
    await failed.sendMessage({
      text: `go ${directive('fault=error-mid after=3 type=overloaded_error')}`,
    });
    expect(failed.status).toBe('error');

    const stoppedPage = await storedMessages('wes', 'wes-stopped');
    const failedPage = await storedMessages('wes', 'wes-failed');

    expect(stoppedPage.messages[1]).toEqual(asJson(stopped.messages[1]));
    expect(stoppedPage.messages[1]?.metadata?.stopReason).toBe('stopped');
    // The stored answer keeps how it failed, as the stream told it.
    expect(failed.messages[1]?.metadata?.error).toMatchObject({ type: 'overloaded_error' });
    expect(failedPage.messages[1]).toEqual(asJson(failed.messages[1]));
    expect(textOf(failedPage.messages[1]).length).toBeGreaterThan(0);
  });

  it('gives an answer still streaming with the text saved so far, which resume: true then follows to its end', async () => {
    const chat = await chatAs(stack, 'xena', { id: 'xena-chat' });
    const sending = chat.sendMessage({
      text: `Tell me at length ${directive('tokens=60 tps=20')}`,
    });
    await expect.poll(() => textOf(chat.messages[1]).length, { timeout: 5_000 }).toBeGreaterThan(0);

    // Once the turn has saved a piece of it.
    let messages: Message[] = [];
    await expect
      .poll(
        async () => {
          ({ messages } = await storedMessages('xena', 'xena-chat'));
          return textOf(messages[1]).length;
        },
        { timeout: 5_000 },
      )
      .toBeGreaterThan(0);

    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]?.id).toBe(chat.messages[1]?.id);
    expect(messages[1]?.metadata).toEqual({
      conversationId: conversationIdOfChat('xena', 'xena-chat'),
      model: 'claude-sonnet-4-6',
    });
    expect(messages[1]?.parts).toEqual([
      { type: 'step-start' },
      { type: 'text', text: expect.any(String), state: 'streaming' },
    ]);
    expect(textOf(chat.messages[1]).startsWith(textOf(messages[1]))).toBe(true);
    const reopened = await chatAs(stack, 'xena', { id: 'xena-chat', messages });
    await reopened.resumeStream();
    await sending;
    expect(reopened.status).toBe('ready');
    expect(asJson(reopened.messages)).toEqual([messages[0], asJson(chat.messages[1])]);
    expect((await storedMessages('xena', 'xena-chat')).messages).toEqual(asJson(reopened.messages));
  });

  it('replays whole an answer that ended between reading the messages and the resume naming it', async () => {
    const chat = await chatAs(stack, 'yann', { id: 'yann-chat' });
    const sending = chat.sendMessage({ text: `Tell me more ${directive('tokens=30 tps=20')}` });
    let messages: Message[] = [];
    await expect
      .poll(
        async () => {
          ({ messages } = await storedMessages('yann', 'yann-chat'));
          return textOf(messages[1]).length;
        },
        { timeout: 5_000 },
      )
      .toBeGreaterThan(0);
    await sending;
    const answerId = messages[1]!.id;
    expect(textOf(messages[1]).length).toBeLessThan(textOf(chat.messages[1]).length);

    // Without the answer named, nothing streams any more: useChat keeps the part read.
    const unnamed = await chatAs(stack, 'yann', { id: 'yann-chat', messages });
    await unnamed.resumeStream();
    expect(textOf(unnamed.messages[1])).toBe(textOf(messages[1]));
    // Named, it is replayed whole with its end.
    const named = await chatAs(stack, 'yann', {
      id: 'yann-chat',
      messages,
      resumeMessageId: answerId,
    });
    await named.resumeStream();

    expect(named.status).toBe('ready');
    expect(asJson(named.messages)).toEqual([messages[0], asJson(chat.messages[1])]);
    expect(named.messages[1]?.metadata?.stopReason).toBe('end_turn');
    // An answer not the chat's last (or no answer) is not replayed; a malformed id is a 400.
    const other = await stack.request(
      'yann',
      'GET',
      `/v1/ui/chat/yann-chat/stream?messageId=${messages[0]!.id}`,
    );
    expect(other.status).toBe(204);
    const another = await stack.request(
      'zack',
      'GET',
      `/v1/ui/chat/yann-chat/stream?messageId=${answerId}`,
    );
    expect(another.status).toBe(204);
    for (const malformed of ['x'.repeat(101), 'msg_1', `${answerId}0`]) {
      const bad = await stack.request(
        'yann',
        'GET',
        `/v1/ui/chat/yann-chat/stream?messageId=${malformed}`,
      );
      expect(bad.status).toBe(400);
    }
  });

  it('pages a long chat from its newest messages back to its first', async () => {
    const chat = await chatAs(stack, 'yuri', { id: 'yuri-chat' });
    for (const n of [1, 2, 3]) await chat.sendMessage({ text: `Question ${n}` });

    const newest = await storedMessages('yuri', 'yuri-chat', '?limit=4');
    const older = await storedMessages(
      'yuri',
      'yuri-chat',
      `?limit=4&cursor=${encodeURIComponent(newest.nextCursor!)}`,
    );

    expect(newest.messages.map(textOf).filter((_, i) => i % 2 === 0)).toEqual([
      'Question 2',
      'Question 3',
    ]);
    expect(older.messages.map(textOf)).toEqual(['Question 1', textOf(chat.messages[1])]);
    expect(older.nextCursor).toBeUndefined();
    expect([...older.messages, ...newest.messages]).toEqual(
      (await storedMessages('yuri', 'yuri-chat')).messages,
    );
  });

  it("answers no messages for a chat not started and for another user's, by any of its ids", async () => {
    const chat = await chatAs(stack, 'zoe', { id: 'zoe-chat' });
    await chat.sendMessage({ text: 'Mine' });
    const conversationId = conversationIdOfChat('zoe', 'zoe-chat');

    expect((await storedMessages('zoe', 'never-started')).messages).toEqual([]);
    expect((await storedMessages('zack', 'zoe-chat')).messages).toEqual([]);
    expect((await storedMessages('zack', conversationId)).messages).toEqual([]);
    expect((await storedMessages('zoe', conversationId)).messages).toHaveLength(2);
  });

  it('refuses a chat id that is not one, a cursor that is not ours, and a caller without a credential', async () => {
    const bad = await stack.request(
      'zoe',
      'GET',
      `/v1/ui/chat/${encodeURIComponent('a b')}/messages`,
    );
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.type).toBe('invalid_request_error');
    const cursor = await stack.request('zoe', 'GET', '/v1/ui/chat/zoe-chat/messages?cursor=forged');
    expect(cursor.status).toBe(400);
    const limit = await stack.request('zoe', 'GET', '/v1/ui/chat/zoe-chat/messages?limit=101');
    expect(limit.status).toBe(400);
    const anonymous = await fetch(`${stack.url}/v1/ui/chat/zoe-chat/messages`);
    expect(anonymous.status).toBe(401);
  });
});

describe('GET /v1/ui/chat/{id}/messages: the pages of a long chat', () => {
  const MIB = 1024 * 1024;
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        MAX_MESSAGE_CHARS: '100000',
        MAX_OUTPUT_TOKENS: '64000',
        USER_TOKENS_PER_MINUTE: '100000000',
        USER_MONTHLY_BUDGET_USD: '1000',
        // The answer left streaming while the pages are read: stalled, not cut for it.
        STREAM_IDLE_TIMEOUT_MS: '120000',
      },
      chatTimeoutMs: 180_000,
      chatTuning: { stopPollIntervalMs: 50 },
    });
  });
  afterAll(() => stack.close());

  const textBytes = (messages: Message[]) =>
    messages.reduce((sum, message) => sum + new TextEncoder().encode(textOf(message)).length, 0);

  /** Every page from the newest back to the first by `nextCursor`, oldest page first. */
  async function walk(userId: string, chatId: string, limit: number) {
    const pages: Message[][] = [];
    let cursor: string | undefined;
    do {
      const page = await readMessages(
        stack,
        userId,
        chatId,
        `?limit=${limit}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      pages.unshift(page.messages);
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages.length < 50);
    expect(cursor).toBeUndefined();
    return pages;
  }

  it('holds at most limit messages and 1 MiB of text a page, the answer streaming among them, and walks back to the first message, nothing lost or repeated', async () => {
    const chat = await chatAs(stack, 'paula', { id: 'paula-long' });
    // Four questions of 300,000 bytes (100,000 characters of three bytes each): 1.2 MB.
    for (const n of [1, 2, 3, 4]) {
      const tail = ` ${n} ${directive('tokens=5')}`;
      await chat.sendMessage({ text: `${'漢'.repeat(100_000 - tail.length)}${tail}` });
      expect(chat.error).toBeUndefined();
    }
    // A fifth, whose answer streams some 200 KB and is still streaming while the pages are read.
    const sending = chat.sendMessage({
      text: `At length ${directive('tokens=60000 fault=stall after=40000')}`,
    });
    await expect
      .poll(
        async () =>
          textBytes((await readMessages(stack, 'paula', 'paula-long')).messages.slice(-1)),
        { timeout: 30_000, interval: 500 },
      )
      // Past 1 MiB with the three newest questions (900,000 bytes) and their answers.
      .toBeGreaterThan(160_000);
    const conversationId = conversationIdOfChat('paula', 'paula-long');
    // Every message stored, in order, as the conversation API lists them (by its own pages).
    const storedIds: string[] = [];
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
      const page = await json(
        await stack.request('paula', 'GET', `/v1/conversations/${conversationId}${query}`),
      );
      storedIds.push(...page.messages.map((m: { id: string }) => m.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const answerId = chat.messages.at(-1)!.id;
    const everyId = [...storedIds, answerId];
    expect(everyId).toHaveLength(10);

    for (const limit of [100, 3, 1]) {
      const pages = await walk('paula', 'paula-long', limit);

      const ids = pages.flat().map((message) => message.id);
      expect(ids, `limit=${limit}`).toEqual(everyId);
      for (const page of pages) {
        expect(page.length, `limit=${limit}`).toBeGreaterThan(0);
        expect(page.length, `limit=${limit}`).toBeLessThanOrEqual(limit);
        // The newest always: a message alone may be larger (none here is).
        expect(textBytes(page), `limit=${limit}`).toBeLessThanOrEqual(MIB);
      }
      const newest = pages.at(-1)!;
      expect(newest.at(-1)?.parts.at(-1)).toMatchObject({ type: 'text', state: 'streaming' });
      if (limit === 100) {
        // 1.2 MB of questions and the answer so far: the bound, not the limit, ends a page.
        expect(pages.length).toBeGreaterThan(1);
      }
    }

    const stop = await stack.request('paula', 'POST', `/v1/conversations/${conversationId}/stop`);
    expect(stop.status).toBe(202);
    await sending;
  });
});
