import { Chat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage, validateUIMessages } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiMessageMetadata } from '../../functions/chat/protocols/ui-message-stream.js';
import { DEFAULT_MODELS } from '../../local-stack/local-claude/models.js';
import { json, readSse, type SseEvent } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A directive the local Claude reads from the message: a fault or pacing for this request. */
const directive = (text: string) => `[[local-claude: ${text}]]`;

/** Allowed here, retired upstream: the local Claude answers it 404 `not_found_error`, as the API does. */
const RETIRED = 'claude-sonnet-4-5';

type Message = UIMessage<UiMessageMetadata>;

/** A message as JSON carries it: the AI SDK's `undefined` fields gone. */
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/**
 * Failures mid-answer of each kind: the error type and whether asking again may succeed
 * are what the first reader was told, and what everyone who reads the answer again must be.
 */
const MID_ANSWER_FAILURES = [
  {
    what: 'an overloaded upstream',
    faults: 'fault=error-mid after=8 type=overloaded_error',
    type: 'overloaded_error',
    retryable: true,
  },
  {
    what: 'a request the model rejects',
    faults: 'fault=error-mid after=8 type=invalid_request_error',
    type: 'invalid_request_error',
    retryable: false,
  },
  {
    what: 'a stream gone silent (the idle watchdog)',
    faults: 'fault=stall after=8',
    type: 'timeout_error',
    retryable: true,
  },
] as const;

/**
 * A reload, a second tab following the answer, a resume after a dropped connection: each
 * reads again an answer that failed, and is told how it failed as its own stream told it,
 * not a generic retryable `api_error`.
 */
describe('a failed answer read again', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: {
        models: DEFAULT_MODELS.filter((model) => !model.startsWith(RETIRED)),
        tokensPerSecond: 10,
      },
      env: { ALLOWED_MODELS: RETIRED, STREAM_IDLE_TIMEOUT_MS: '1000' },
      chatTuning: { answerPieceIntervalMs: 100, followPollIntervalMs: 50 },
    });
  });
  afterAll(() => stack.close());

  const follow = (userId: string, conversationId: string, after = '') =>
    stack.request(
      userId,
      'GET',
      `/v1/conversations/${conversationId}/stream${after && `?after=${after}`}`,
    );
  const storedAnswer = async (userId: string, conversationId: string) =>
    (await json(await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`)))
      .messages[1];

  it.each(MID_ANSWER_FAILURES)(
    'tells a second tab following it, a resume after a dropped connection and a reload of $what what the first tab was told',
    async ({ faults, type, retryable }) => {
      const userId = `reader-${type}`;
      const first: SseEvent[] = [];
      let second: Promise<SseEvent[]> | undefined;
      for await (const event of readSse(
        await stack.chat(userId, { message: `A story ${directive(`${faults} tokens=40`)}` }),
      )) {
        first.push(event);
        // The second tab opens the chat while the answer streams, and follows it.
        if (event.event === 'delta' && !second) {
          const conversationId = String(first[0]!.data.conversationId);
          second = follow(userId, conversationId).then(async (response) => {
            expect(response.status).toBe(200);
            const events: SseEvent[] = [];
            for await (const followed of readSse(response)) events.push(followed);
            return events;
          });
        }
      }
      const conversationId = String(first[0]!.data.conversationId);
      const told = first.at(-1)!;
      expect(told.event).toBe('error');
      expect(told.data).toMatchObject({ error: { type }, retryable });

      const followed = await second!;
      expect(followed.at(-1)).toEqual(told);
      // A client that dropped after the first words: the rest, then the same end.
      const resumed = [];
      for await (const event of readSse(await follow(userId, conversationId, first[1]!.id))) {
        resumed.push(event);
      }
      expect(resumed.at(-1)).toEqual(told);
      const stored = await storedAnswer(userId, conversationId);
      expect(stored).toMatchObject({ stopReason: 'error', costUsd: told.data.costUsd });
      expect(stored.error).toEqual({ ...(told.data.error as object), retryable });
    },
  );

  it('keeps the failure of an answer that could not start (a retired model): not found, not to be retried', async () => {
    const refused = await stack.chat('retiree', { message: 'Hello?', model: RETIRED });
    expect(refused.status).toBe(502);
    const { error, conversationId } = await json(refused);
    expect(error.type).toBe('not_found_error');

    const stored = await storedAnswer('retiree', conversationId);

    expect(stored).toMatchObject({ content: '', stopReason: 'error' });
    expect(stored.error).toEqual({ ...error, retryable: false });
  });

  /** `useChat`'s own client, as README sets it up. */
  async function chatAs(
    userId: string,
    options: { id: string; messages?: Message[]; resumeMessageId?: string },
  ) {
    const token = await stack.token(userId);
    return new Chat<Message>({
      id: options.id,
      ...(options.messages && { messages: options.messages }),
      transport: new DefaultChatTransport({
        api: `${stack.url}/v1/ui/chat`,
        headers: { authorization: `Bearer ${token}` },
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
          body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
        }),
        ...(options.resumeMessageId && {
          prepareReconnectToStreamRequest: ({ api, id }) => ({
            api: `${api}/${id}/stream?messageId=${options.resumeMessageId}`,
          }),
        }),
      }),
    });
  }

  it.each(MID_ANSWER_FAILURES)(
    "gives useChat's second tab, a reopened chat's messages and its resume of $what the failure the first tab had",
    async ({ faults, type, retryable }) => {
      const userId = `ui-reader-${type}`;
      const chatId = `failing-${type}`;
      const first = await chatAs(userId, { id: chatId });
      const sending = first.sendMessage({ text: `A story ${directive(`${faults} tokens=40`)}` });
      await expect
        .poll(() => first.messages[1]?.parts.some((part) => part.type === 'text'), {
          timeout: 5_000,
        })
        .toBe(true);
      // The second tab opens the chat while the answer streams (`resume: true`), and follows it.
      const second = await chatAs(userId, { id: chatId, messages: first.messages.slice(0, 1) });
      await Promise.all([second.resumeStream(), sending]);

      expect(first.status).toBe('error');
      expect(second.status).toBe('error');
      expect(second.error?.message).toBe(first.error?.message);
      expect(second.messages[1]?.metadata?.error).toMatchObject({ type, retryable });
      const live = asJson(first.messages[1]!);
      expect(live.metadata?.error).toEqual({ type, retryable, message: first.error?.message });
      expect(asJson(second.messages[1])).toEqual(live);

      const response = await stack.request(userId, 'GET', `/v1/ui/chat/${chatId}/messages`);
      const { messages } = (await json(response)) as { messages: Message[] };
      await validateUIMessages({ messages });
      expect(messages[1]).toEqual(live);
      // A chat reopened with them, that resumes the answer it last had (ended since): the same end.
      const reopened = await chatAs(userId, {
        id: chatId,
        messages,
        resumeMessageId: live.id,
      });
      await reopened.resumeStream();
      expect(reopened.status).toBe('error');
      expect(reopened.error?.message).toBe(first.error?.message);
      expect(asJson(reopened.messages[1])).toEqual(live);
    },
  );
});
