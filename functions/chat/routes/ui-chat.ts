import type { StoredMessage } from '../../../shared/domain/conversation.js';
import { NotFoundError, ValidationError } from '../../../shared/domain/errors.js';
import { isMessageId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';
import { anthropicRequestHeaders } from '../http/anthropic-headers.js';
import type { RequestScope } from '../http/chat-router.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import {
  UI_MESSAGE_STREAM_FRAMING,
  UI_MESSAGE_STREAM_HEADERS,
  uiMessageStreamEncoder,
} from '../protocols/ui-message-stream.js';
import { uiMessageStreamChunkSchemas } from '../protocols/ui-message-stream-events.js';
import { boundedText } from '../request-schemas.js';
import type { ChatTurn, LiveTurn } from '../turn/chat-turn.js';
import { lastQuestion } from '../turn/last-question.js';
import type { TurnObserver, TurnRequest } from '../turn/turn-types.js';
import { CHAT_ID_PATTERN, conversationIdOfChat } from './ui-chat-id.js';

/**
 * What `useChat` (`DefaultChatTransport`) posts: `{ ...body, id, messages, trigger,
 * messageId? }`. The extra body fields we read are `model`, `system` and `maxTokens`;
 * others are ignored. Old messages are not validated beyond their shape: only the last
 * user message is read.
 */
export function uiChatRequestSchema(limits: { maxMessageChars: number }) {
  return z.looseObject({
    id: z.string().check(z.regex(CHAT_ID_PATTERN, 'must be 1-128 letters, digits, _ or -')),
    messages: z
      .array(
        z.looseObject({
          id: z.optional(z.string()),
          role: z.enum(['system', 'user', 'assistant']),
          parts: z.array(z.looseObject({ type: z.string() })),
        }),
      )
      .check(z.minLength(1, 'at least one message is required')),
    trigger: z.enum(['submit-message', 'regenerate-message']),
    messageId: z.optional(boundedText(100)),
    model: z.optional(boundedText(100)),
    system: z.optional(z.string().check(...maxChars(limits.maxMessageChars))),
    maxTokens: z.optional(z.int().check(z.positive())),
  });
}

export type UiChatRequest = z.infer<ReturnType<typeof uiChatRequestSchema>>;

/**
 * POST /v1/ui/chat: one turn for the AI SDK's `useChat`, streamed in its UI message
 * stream protocol. The chat id names the conversation (see conversationIdOfChat): it is
 * started under that id by the chat's first message. The history is the server's: of
 * the messages sent, only the last user message's text is read.
 */
export const uiChatRoute = (deps: {
  chatTurn: ChatTurn;
  store: ConversationStore;
  observeTurn: (scope: RequestScope) => TurnObserver;
  limits: { maxMessageChars: number; pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'POST',
    path: '/v1/ui/chat',
    body: uiChatRequestSchema(deps.limits),
    docs: {
      operationId: 'uiChat',
      summary: "Chat with the AI SDK's useChat (UI message stream protocol v1)",
      description:
        "What `useChat` with `DefaultChatTransport({ api: '<function URL>/v1/ui/chat', headers })` sends: `{ id, messages, trigger, messageId? }`, plus optional `model`, `system` and `maxTokens`. The chat `id` names a conversation of the caller's (one of our conversation ids names that conversation; any other id is mapped to one), started by the chat's first message. The history is the server's: only the last user message's text is read. `trigger: \"regenerate-message\"` answers the last question again (the previous answer is kept, superseded; when the last message is a question the server does not have, refused before it was stored, it is asked instead; when it is one of the server's questions, by either of its ids, reading otherwise (an edit refused), it replaces that question as the edit would have), or, with a `messageId` (an earlier answer, or a question), gives that answer again, superseding it and everything after it; `submit-message` with a `messageId` edits that question: it and everything after it are superseded. A question is named by the server's id (as `GET /v1/conversations/{id}` lists them) or by the one the client gave it as it sent it (useChat's), which is kept with it. The answer streams as `data: <JSON>` lines (no `event:` names) ending with `data: [DONE]`; the message metadata carries the conversation, model, stop reason, usage and cost. An error found before the stream starts is a JSON response, which useChat surfaces as its error.",
      responses: {
        200: {
          description: 'The answer, in the UI message stream protocol v1.',
          events: uiMessageStreamChunkSchemas,
          framing: UI_MESSAGE_STREAM_FRAMING,
          headers: {
            'x-vercel-ai-ui-message-stream': '`v1`: the protocol of the stream.',
            'x-cache':
              '`hit` when a cached answer is replayed (free); `miss`, `bypass`, `refresh` or `off` otherwise.',
          },
        },
      },
      errors: [402, 403, 404, 409, 429, 502, 503, 529],
    },
    handle: async ({ request, body, principal, scope }) => {
      const conversationId = conversationIdOfChat(principal.userId, body.id);
      const clientQuestionId = clientMessageId(body);
      const common = {
        userId: principal.userId,
        ...(clientQuestionId !== undefined && { clientQuestionId }),
        ...(body.model !== undefined && { model: body.model }),
        ...(body.system !== undefined && { system: body.system }),
        ...(body.maxTokens !== undefined && { maxTokens: body.maxTokens }),
        ...(principal.apiKey && { apiKey: principal.apiKey }),
        cache: anthropicRequestHeaders(request.headers).cache,
      };
      const context = {
        requestId: scope.requestId,
        observer: deps.observeTurn(scope),
        remainingTimeMs: scope.remainingTimeMs,
        arrivedAtMs: scope.arrivedAtMs,
      };
      const turn = await startTurn(
        (turnRequest) => deps.chatTurn.start({ ...common, ...turnRequest }, context),
        {
          conversationId,
          body,
          maxMessageChars: deps.limits.maxMessageChars,
          lastQuestion: () => lastQuestion(deps.store, principal.userId, conversationId),
        },
      );
      scope.logger.appendKeys({ conversationId: turn.conversationId, messageId: turn.messageId });
      const encode = uiMessageStreamEncoder();
      return sseResponse(scope, (write) => turn.run((event) => write(encode(event))), {
        pingIntervalMs: deps.limits.pingIntervalMs,
        headers: { ...UI_MESSAGE_STREAM_HEADERS, 'x-cache': turn.cache },
      });
    },
  });

type Start = (request: Omit<TurnRequest, 'userId'>) => Promise<LiveTurn>;

/**
 * The turn a useChat request asks for: an answer given again (`regenerate-message`: the
 * last, or the one its `messageId` names), an edited question (`submit-message` with the
 * question's id, the server's or useChat's), or the next question, which starts the
 * conversation under the chat's id when it is the chat's first. A regenerate of a question
 * the server does not have (one refused, with a 409, 429 or 402: useChat's Retry after an
 * error) asks it; of one of the server's questions, reading otherwise (an edit refused),
 * makes that edit.
 */
async function startTurn(
  start: Start,
  request: {
    conversationId: string;
    body: UiChatRequest;
    maxMessageChars: number;
    /** The question a regenerate would ask again. */
    lastQuestion: () => Promise<StoredMessage | undefined>;
  },
): Promise<LiveTurn> {
  const { conversationId, body } = request;
  if (body.trigger === 'regenerate-message' && (await asksAnotherQuestion(request))) {
    const message = lastUserText(body.messages, request.maxMessageChars);
    const { id } = body.messages.at(-1)!;
    const clientId = clientMessageId(body);
    // One of the server's questions, reading otherwise: the Retry of a refused edit, which
    // asked at the end would be answered after all the edit was to replace.
    if (id !== undefined && isMessageId(id)) {
      return start({ conversationId, message, replaces: id, ...asked(clientId) }).catch(
        namingTheChat(body.id, conversationId),
      );
    }
    // By useChat's id, before a reload: an edit if the server has a question by it, else a
    // question it refused before storing (useChat's Retry of a 409, 429 or 402), asked now.
    if (clientId !== undefined) {
      return start({ conversationId, message, replaces: clientId, ...asked(clientId) }).catch(
        (error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
          return ask(start, conversationId, message, clientId);
        },
      );
    }
    return ask(start, conversationId, message, clientId);
  }
  if (body.trigger === 'regenerate-message') {
    // The client's copy of the question is not read.
    return start({
      conversationId,
      message: '',
      regenerate: true,
      ...(body.messageId !== undefined && { regenerates: body.messageId }),
    }).catch(namingTheChat(body.id, conversationId));
  }
  const message = lastUserText(body.messages, request.maxMessageChars);
  if (body.messageId !== undefined) {
    return start({
      conversationId,
      message,
      replaces: body.messageId,
      ...asked(clientMessageId(body)),
    }).catch(namingTheChat(body.id, conversationId));
  }
  return ask(start, conversationId, message, clientMessageId(body));
}

/** The client's id of the question asked, kept with it (useChat keeps a question's id through an edit). */
const asked = (clientMessageId: string | undefined) =>
  clientMessageId === undefined ? {} : { clientMessageId };

/** The next question, which starts the conversation under the chat's id when it is the chat's first. */
function ask(
  start: Start,
  conversationId: string,
  message: string,
  clientMessageId: string | undefined,
): Promise<LiveTurn> {
  const question = { message, ...asked(clientMessageId) };
  return start({ conversationId, ...question }).catch((error: unknown) => {
    // The chat's first message (nothing was held): start the conversation under its id.
    if (!(error instanceof NotFoundError)) throw error;
    return start({ newConversationId: conversationId, ...question });
  });
}

/**
 * The client's id of the question asked (useChat's), kept with it: a Retry of the same
 * words asked again and refused ("go on") is told from a regenerate of the answer to them
 * by it. One longer than any client generates is not kept.
 */
function clientMessageId(body: UiChatRequest): string | undefined {
  const { id } = body.messages.at(-1)!;
  return id !== undefined && id.length > 0 && id.length <= MAX_CLIENT_MESSAGE_ID_CHARS
    ? id
    : undefined;
}

const MAX_CLIENT_MESSAGE_ID_CHARS = 128;

/**
 * A regenerate of the last answer whose chat ends with a question that is not the one the
 * server would ask again: useChat's `regenerate()` after that question was refused (its
 * documented Retry), which the server never stored. Answering the question before it
 * again would drop this one and show another's answer under it.
 */
async function asksAnotherQuestion(request: {
  body: UiChatRequest;
  lastQuestion: () => Promise<StoredMessage | undefined>;
}): Promise<boolean> {
  const { body } = request;
  const last = body.messages.at(-1)!;
  if (body.messageId !== undefined || last.role !== 'user') return false;
  // One with a file (or any part but text) was refused, never stored: asked, it is refused again.
  if (last.parts.some((part) => part.type !== 'text')) return true;
  const question = textOf(last);
  if (question.trim().length === 0) return false;
  const asked = await request.lastQuestion();
  if (asked?.content !== question.toWellFormed()) return true;
  // The same words: another question when the client names it otherwise than the one asked
  // (a "go on" refused after the "go on" answered), and the same under either of its ids.
  return (
    last.id !== undefined &&
    asked.clientMessageId !== undefined &&
    last.id !== asked.clientMessageId &&
    last.id !== asked.id
  );
}

/** A chat with no conversation yet is named by its id, not by the conversation id it maps to. */
function namingTheChat(chatId: string, conversationId: string) {
  return (error: unknown): never => {
    if (error instanceof NotFoundError && error.message.includes(conversationId)) {
      throw new NotFoundError(`chat ${quoted(chatId)} has no messages yet`);
    }
    throw error;
  };
}

/** The question: the text parts of the last message, which must be the user's. */
function lastUserText(messages: UiChatRequest['messages'], maxChars: number): string {
  const index = messages.length - 1;
  const last = messages[index]!;
  if (last.role !== 'user') {
    throw new ValidationError(`messages.${index}: the last message must be the user's`);
  }
  const other = last.parts.find((part) => part.type !== 'text');
  if (other) {
    throw new ValidationError(
      `messages.${index}: only text parts are supported, not ${quoted(other.type)}`,
    );
  }
  const text = textOf(last);
  if (text.trim().length === 0) {
    throw new ValidationError(`messages.${index}: the message must not be empty`);
  }
  if (text.length > maxChars) {
    throw new ValidationError(
      `messages.${index}: the message must be at most ${maxChars} characters`,
    );
  }
  return text;
}

/** A message's text parts, one after another. */
function textOf(message: UiChatRequest['messages'][number]): string {
  return message.parts.map((part) => (typeof part.text === 'string' ? part.text : '')).join('\n');
}
