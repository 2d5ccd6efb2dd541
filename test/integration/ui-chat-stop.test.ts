import { Chat } from '@ai-sdk/react';
import { DefaultChatTransport, type FinishReason, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiMessageMetadata } from '../../functions/chat/protocols/ui-message-stream.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import type { BeginTurn, ConversationStore } from '../../shared/ports/conversation-store.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

type Message = UIMessage<UiMessageMetadata>;

/** `useChat`'s client as README sets it up: only the question is sent. */
async function chatAs(stack: TestStack, userId: string) {
  const token = await stack.token(userId);
  const finishes: Array<FinishReason | undefined> = [];
  const chat = new Chat<Message>({
    transport: new DefaultChatTransport({
      api: `${stack.url}/v1/ui/chat`,
      headers: { authorization: `Bearer ${token}` },
      prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
        body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
      }),
    }),
    onFinish: ({ finishReason }) => finishes.push(finishReason),
  });
  return { chat, finishes };
}

/** The stop reason a UI message stream's metadata ends with. */
async function stopReasonOf(response: Response): Promise<unknown> {
  const chunks = (await response.text())
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice(6)));
  return chunks.find((chunk) => chunk.type === 'message-metadata')?.messageMetadata?.stopReason;
}

/** README's Stop while the answer has not started: the chat's id and its question's. */
const stopQuestion = (stack: TestStack, userId: string, chatId: string, questionId: string) =>
  stack.request(
    userId,
    'POST',
    `/v1/ui/chat/${chatId}/stop?messageId=${encodeURIComponent(questionId)}`,
  );

describe('POST /v1/ui/chat/{id}/stop: Stop before the answer has started', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 25 },
      chatTuning: { stopPollIntervalMs: 50 },
    });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack?.close());

  /** Nothing of the user's month is held: spent only. */
  const nothingHeld = async (userId: string) => {
    const month = await ledger.userMonth(userId, monthOf(Date.now()));
    expect(month.heldNanoUsd).toBe(month.spentNanoUsd);
  };

  it('stops a new chat’s answer while Claude has not sent its first token: the call is closed, the question kept, the answer stopped and free', async () => {
    const { chat, finishes } = await chatAs(stack, 'sam');
    const before = stack.claude.requests.length;
    const sending = chat.sendMessage({ text: `Think long ${directive('ttft=8000 tokens=50')}` });
    // The turn is at Claude, which has not answered yet: useChat is still `submitted`.
    await expect.poll(() => stack.claude.requests.length, { timeout: 5_000 }).toBe(before + 1);
    expect(chat.status).toBe('submitted');
    const question = chat.messages[0]!;

    const startedAt = Date.now();
    const stop = await stopQuestion(stack, 'sam', chat.id, question.id);
    expect(stop.status).toBe(202);
    expect(await json(stop)).toMatchObject({ status: 'stopping' });
    await sending;

    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(stack.claude.requests[before]?.aborted).toBe(true);
    expect(chat.error).toBeUndefined();
    expect(finishes).toEqual(['other']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('stopped');
    const stored = await json(await stack.request('sam', 'GET', `/v1/ui/chat/${chat.id}/messages`));
    expect(stored.messages.map((m: Message) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.messages[0].parts[0].text).toContain('Think long');
    expect(stored.messages[1].metadata).toMatchObject({ stopReason: 'stopped', costUsd: 0 });
    await nothingHeld('sam');
  });

  it('stops the next answer of a chat while it waits for its first token, and the chat goes on', async () => {
    const { chat, finishes } = await chatAs(stack, 'tess');
    await chat.sendMessage({ text: `First ${directive('tokens=3')}` });
    const before = stack.claude.requests.length;
    const sending = chat.sendMessage({ text: `Second ${directive('ttft=8000')}` });
    await expect.poll(() => stack.claude.requests.length, { timeout: 5_000 }).toBe(before + 1);
    const stop = await stopQuestion(stack, 'tess', chat.id, chat.messages[2]!.id);
    expect(stop.status).toBe(202);
    await sending;
    expect(stack.claude.requests[before]?.aborted).toBe(true);
    expect(finishes).toEqual(['stop', 'other']);
    expect(chat.messages[3]?.metadata?.stopReason).toBe('stopped');

    await chat.sendMessage({ text: `Third ${directive('tokens=3')}` });
    expect(finishes).toEqual(['stop', 'other', 'stop']);
    await nothingHeld('tess');
  });

  it('keeps a stop that lands before the turn is recorded: the turn stops once it is, and Claude answers nothing', async () => {
    const before = stack.claude.requests.length;
    const early = await stopQuestion(stack, 'uma', 'early-chat', 'q-early');
    expect(early.status).toBe(202);

    const response = await stack.request('uma', 'POST', '/v1/ui/chat', {
      id: 'early-chat',
      messages: [
        {
          id: 'q-early',
          role: 'user',
          parts: [{ type: 'text', text: `Hi ${directive('ttft=8000')}` }],
        },
      ],
      trigger: 'submit-message',
    });
    expect(response.status).toBe(200);
    expect(await stopReasonOf(response)).toBe('stopped');
    // Never called, or its call closed.
    expect(stack.claude.requests.slice(before).every((request) => request.aborted)).toBe(true);
    const stored = await json(await stack.request('uma', 'GET', '/v1/ui/chat/early-chat/messages'));
    expect(stored.messages.map((m: Message) => m.role)).toEqual(['user', 'assistant']);
    await nothingHeld('uma');
  });

  it('stops a turn that a Stop races from its start (sent at once after the question)', async () => {
    const { chat, finishes } = await chatAs(stack, 'vic');
    const sending = chat.sendMessage({ text: `Race ${directive('ttft=8000')}` });
    // useChat adds the question as it sends it (a microtask later).
    await expect.poll(() => chat.messages[0], { interval: 1 }).toBeDefined();
    const stop = await stopQuestion(stack, 'vic', chat.id, chat.messages[0]!.id);
    expect(stop.status).toBe(202);
    await sending;
    expect(finishes).toEqual(['other']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('stopped');
    await nothingHeld('vic');
  });

  it('answers a stop after its answer ended with 409, and stops neither the next question nor the same one answered again', async () => {
    const { chat, finishes } = await chatAs(stack, 'wes');
    await chat.sendMessage({ text: `One ${directive('tokens=3')}` });
    const late = await stopQuestion(stack, 'wes', chat.id, chat.messages[0]!.id);
    expect(late.status).toBe(409);
    expect((await json(late)).error.message).toContain('has ended');

    await chat.regenerate();
    expect(finishes).toEqual(['stop', 'stop']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('end_turn');
    await chat.sendMessage({ text: `Two ${directive('tokens=3')}` });
    expect(finishes).toEqual(['stop', 'stop', 'stop']);
  });

  it('stops a regenerate() of an answered question from its start, the stop racing it', async () => {
    const { chat, finishes } = await chatAs(stack, 'yves');
    await chat.sendMessage({ text: `Once more ${directive('ttft=1500 tokens=3')}` });
    const before = stack.claude.requests.length;

    const regenerating = chat.regenerate();
    // A person's Stop comes some time after the click: the regenerate's request reached the
    // function URL first, and is being admitted.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stop = await stopQuestion(stack, 'yves', chat.id, chat.messages[0]!.id);
    // Landed before the regenerate was recorded it reads as late (the answer it knows ended),
    // and stops the regenerate still, which came before it.
    expect([202, 409]).toContain(stop.status);
    await regenerating;

    expect(finishes).toEqual(['stop', 'other']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('stopped');
    expect(stack.claude.requests.slice(before).every((request) => request.aborted)).toBe(true);
    await nothingHeld('yves');
  });

  it('does not stop the same question answered again after a stop kept for it was used', async () => {
    const early = await stopQuestion(stack, 'xan', 'again-chat', 'q-again');
    expect(early.status).toBe(202);
    const ask = (trigger: string) =>
      stack.request('xan', 'POST', '/v1/ui/chat', {
        id: 'again-chat',
        messages: [
          {
            id: 'q-again',
            role: 'user',
            parts: [{ type: 'text', text: `Hi ${directive('tokens=3')}` }],
          },
        ],
        trigger,
      });
    expect(await stopReasonOf(await ask('submit-message'))).toBe('stopped');
    expect(await stopReasonOf(await ask('regenerate-message'))).toBe('end_turn');
  });

  it('stops a regenerate() under way from a reopened chat, by the server’s id of its question', async () => {
    const { chat, finishes } = await chatAs(stack, 'ria');
    await chat.sendMessage({ text: `Again ${directive('ttft=3000 tokens=3')}` });
    const before = stack.claude.requests.length;
    const regenerating = chat.regenerate();
    await expect.poll(() => stack.claude.requests.length, { timeout: 5_000 }).toBe(before + 1);
    // Reopened (a reload): the question is named by the server's id, the answer not started.
    const reopened = await json(
      await stack.request('ria', 'GET', `/v1/ui/chat/${chat.id}/messages`),
    );
    const question = reopened.messages.findLast((m: Message) => m.role === 'user');
    expect(question.id).not.toBe(chat.messages[0]!.id);

    const stop = await stopQuestion(stack, 'ria', chat.id, question.id);
    expect(stop.status).toBe(202);
    await regenerating;
    expect(finishes).toEqual(['stop', 'other']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('stopped');
    expect(stack.claude.requests[before]?.aborted).toBe(true);
  });

  it('leaves nothing a delete would find after a stop of a chat never started', async () => {
    const stop = await stopQuestion(stack, 'ned', 'never-chat', 'q-never');
    expect(stop.status).toBe(202);
    const { conversationId } = await json(stop);
    const deleted = await stack.request('ned', 'DELETE', `/v1/conversations/${conversationId}`);
    expect(deleted.status).toBe(404);
  });

  it('refuses a stop without the question it names', async () => {
    const response = await stack.request('yael', 'POST', '/v1/ui/chat/some-chat/stop');
    expect(response.status).toBe(400);
    expect((await json(response)).error.type).toBe('invalid_request_error');
  });
});

describe('POST /v1/ui/chat/{id}/stop racing a regenerate() still being admitted', () => {
  const SLOW_BEGIN_MS = 700;
  let stack: TestStack;
  beforeAll(async () => {
    // A regenerate's turn is recorded late: its stop lands first, while the answer the chat
    // knows for the question has ended.
    stack = await startTestStack({
      claude: { tokensPerSecond: 25 },
      chatTuning: { stopPollIntervalMs: 50 },
      customizeChat: (adapters) => {
        const { store } = adapters;
        const slowRegenerate = Object.assign(Object.create(store), {
          beginTurn: async (begin: BeginTurn) => {
            if (!begin.userMessage) await new Promise((r) => setTimeout(r, SLOW_BEGIN_MS));
            return store.beginTurn(begin);
          },
        });
        return { ...adapters, store: slowRegenerate };
      },
    });
  });
  afterAll(() => stack?.close());

  it('stops the regenerate that came before the stop (the stop reads as late: 409), and not one asked after it', async () => {
    const { chat, finishes } = await chatAs(stack, 'zoe');
    await chat.sendMessage({ text: `Once more ${directive('ttft=1500 tokens=3')}` });
    const before = stack.claude.requests.length;

    const regenerating = chat.regenerate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stop = await stopQuestion(stack, 'zoe', chat.id, chat.messages[0]!.id);
    expect(stop.status).toBe(409);
    await regenerating;

    expect(finishes).toEqual(['stop', 'other']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('stopped');
    expect(stack.claude.requests.slice(before).every((request) => request.aborted)).toBe(true);

    // A regenerate asked after a late stop goes on.
    const late = await stopQuestion(stack, 'zoe', chat.id, chat.messages[0]!.id);
    expect(late.status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await chat.regenerate();
    expect(finishes).toEqual(['stop', 'other', 'stop']);
    expect(chat.messages[1]?.metadata?.stopReason).toBe('end_turn');
  });
});

describe('POST /v1/ui/chat/{id}/stop kept for a turn that ends before its first look for a stop', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The default is 250 ms: an answer shorter than a poll interval is never polled.
    stack = await startTestStack({
      claude: { tokensPerSecond: 25 },
      chatTuning: { stopPollIntervalMs: 3_000 },
    });
  });
  afterAll(() => stack?.close());

  const ask = (trigger: string) =>
    stack.request('abe', 'POST', '/v1/ui/chat', {
      id: 'fast-chat',
      messages: [
        {
          id: 'q-fast',
          role: 'user',
          parts: [{ type: 'text', text: `Hi ${directive('tokens=5')}` }],
        },
      ],
      trigger,
    });

  it('stops that turn, and not the same question answered again right after', async () => {
    const early = await stopQuestion(stack, 'abe', 'fast-chat', 'q-fast');
    expect(early.status).toBe(202);

    expect(await stopReasonOf(await ask('submit-message'))).toBe('stopped');
    expect(await stopReasonOf(await ask('regenerate-message'))).toBe('end_turn');
  });
});

describe('POST /v1/ui/chat/{id}/stop whose keeping lands after its turn first looked for it', () => {
  const SLOW_KEEP_MS = 1_500;
  let stack: TestStack;
  let keeping: () => void = () => undefined;
  beforeAll(async () => {
    // The stop's kept record is written late: the turn is recorded and has looked for it
    // before it lands. The stop's second look, once it is kept, must find the turn.
    stack = await startTestStack({
      claude: { tokensPerSecond: 25 },
      chatTuning: { stopPollIntervalMs: 50 },
      customizeChat: (adapters) => {
        const { store } = adapters;
        const slowKeep = {
          send: async (command: { input: { Item?: { sk?: string } } }) => {
            if (command.input.Item?.sk?.startsWith('STOP#')) {
              keeping();
              await new Promise((resolve) => setTimeout(resolve, SLOW_KEEP_MS));
            }
            return stack.documentClient.send(command as never);
          },
        };
        const requestStopOfQuestion: ConversationStore['requestStopOfQuestion'] = (...args) =>
          DynamoConversationStore.prototype.requestStopOfQuestion.apply(
            Object.assign(Object.create(DynamoConversationStore.prototype), {
              client: slowKeep,
              tableName: stack.tableName,
            }),
            args,
          );
        return {
          ...adapters,
          store: Object.assign(Object.create(store), { requestStopOfQuestion }),
        };
      },
    });
  });
  afterAll(() => stack?.close());

  it('stops the turn recorded meanwhile', async () => {
    const before = stack.claude.requests.length;
    const kept = new Promise<void>((resolve) => {
      keeping = resolve;
    });
    const stopping = stopQuestion(stack, 'cal', 'late-keep-chat', 'q-late-keep');
    // The stop found no turn, and is being kept: the question comes now.
    await kept;
    const asking = stack.request('cal', 'POST', '/v1/ui/chat', {
      id: 'late-keep-chat',
      messages: [
        {
          id: 'q-late-keep',
          role: 'user',
          parts: [{ type: 'text', text: `Hi ${directive('ttft=8000')}` }],
        },
      ],
      trigger: 'submit-message',
    });
    const response = await asking;
    expect((await stopping).status).toBe(202);
    expect(await stopReasonOf(response)).toBe('stopped');
    expect(stack.claude.requests.slice(before).every((request) => request.aborted)).toBe(true);
  });
});
