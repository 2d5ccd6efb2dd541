import { Chat } from '@ai-sdk/react';
import { type APICallError, DefaultChatTransport, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Neither allowed nor priced here: a typo, or a model released since this version. */
const NO_SUCH_MODEL = 'claude-nope-9';
/** Priced here, not allowed by this deployment. */
const NOT_ALLOWED = 'claude-opus-4-5';

/**
 * Our chat APIs answer a model there is not as `/v1/messages` does: 404 `not_found_error`
 * naming it, never asked upstream, the question refused (not stored) as any refused one is.
 */
describe('a model there is not, asked for on the chat APIs', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  const upstreamCalls = (marker: string) =>
    stack.claude.requests.filter((request) =>
      JSON.stringify(request.body ?? null).includes(marker),
    );

  it('answers /v1/chat 404 not_found_error naming it, storing nothing; a model there is but not allowed stays a 400', async () => {
    const question = `Hello, unknown model ${Date.now()}`;

    const refused = await stack.chat('typo', { message: question, model: NO_SUCH_MODEL });

    expect(refused.status).toBe(404);
    const body = await json(refused);
    expect(body.error).toEqual({
      type: 'not_found_error',
      message: `model "${NO_SUCH_MODEL}" does not exist here; use one of: claude-sonnet-4-6`,
    });
    expect(body.conversationId).toBeUndefined();
    expect(upstreamCalls(question)).toEqual([]);
    expect(
      (await json(await stack.request('typo', 'GET', '/v1/conversations'))).conversations,
    ).toEqual([]);
    const notAllowed = await stack.chat('typo', { message: question, model: NOT_ALLOWED });
    expect(notAllowed.status).toBe(400);
    expect((await json(notAllowed)).error.type).toBe('invalid_request_error');
  });

  it('leaves a conversation it was asked in as it was', async () => {
    const started = await stack.chat('continuer', { message: 'First [[local-claude: tokens=2]]' });
    await started.text();
    const { conversations } = await json(
      await stack.request('continuer', 'GET', '/v1/conversations'),
    );
    const conversationId = conversations[0].id;

    const refused = await stack.chat('continuer', {
      conversationId,
      message: 'Second',
      model: NO_SUCH_MODEL,
    });

    expect(refused.status).toBe(404);
    expect((await json(refused)).error.message).toContain(`"${NO_SUCH_MODEL}"`);
    const stored = await json(
      await stack.request('continuer', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(stored.messages).toHaveLength(2);
  });

  it("answers useChat 404 naming it; the question, never stored, is asked by useChat's Retry with a model there is", async () => {
    const token = await stack.token('ui-typo');
    const chat = new Chat<UIMessage>({
      id: 'typo-chat',
      transport: new DefaultChatTransport({
        api: `${stack.url}/v1/ui/chat`,
        headers: { authorization: `Bearer ${token}` },
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
          body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
        }),
      }),
    });
    const question = `Name a blue fruit ${Date.now()}`;

    await chat.sendMessage({ text: question }, { body: { model: NO_SUCH_MODEL } });

    expect(chat.status).toBe('error');
    expect((chat.error as APICallError).statusCode).toBe(404);
    expect(JSON.parse(chat.error!.message).error).toEqual({
      type: 'not_found_error',
      message: `model "${NO_SUCH_MODEL}" does not exist here; use one of: claude-sonnet-4-6`,
    });
    expect(upstreamCalls(question)).toEqual([]);
    const stored = await json(
      await stack.request('ui-typo', 'GET', '/v1/ui/chat/typo-chat/messages'),
    );
    expect(stored.messages).toEqual([]);

    await chat.regenerate();

    expect(chat.error).toBeUndefined();
    expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(upstreamCalls(question)).toHaveLength(1);
  });
});
