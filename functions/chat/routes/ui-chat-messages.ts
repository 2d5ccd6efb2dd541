import { estimateTokens } from '../../../shared/domain/tokens.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { uiMessageMetadataSchema } from '../protocols/ui-message-stream-events.js';
import { storedUiMessage, streamingUiMessage, type UiMessage } from '../protocols/ui-messages.js';
import { boundedText, queryInt } from '../request-schemas.js';
import { nextCursorSchema } from '../response-schemas.js';
import { conversationIdOfChat } from './ui-chat-id.js';

/**
 * The stored text one page answers at most, in estimated tokens (4 bytes each): 1 MiB of
 * UTF-8, so its JSON stays far under the 6 MB a function URL streams at full speed (and its
 * 200 MB), while any one message (a DynamoDB item, under 400 KB) always fits.
 */
const PAGE_MAX_TOKENS = 262_144;

/**
 * GET /v1/ui/chat/{id}/messages: a chat's messages as `useChat` shows them, for an app
 * that reopens it (`useChat({ id, messages, resume: true })`): the newest first, back
 * to the first by `nextCursor`.
 */
export const uiChatMessagesRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/ui/chat/:id/messages',
    query: z.object({
      limit: queryInt({ min: 1, max: 100, fallback: 100 }),
      cursor: z.optional(boundedText(2048)),
    }),
    docs: {
      operationId: 'getUiChatMessages',
      summary: "A useChat chat's messages, as useChat shows them (AI SDK UIMessage)",
      description:
        "What to give `useChat({ id, messages, resume: true })` as it reopens a chat (a reload, another device): the chat's messages as the AI SDK's `UIMessage`s, with the ids, parts and metadata POST /v1/ui/chat streamed (an answer's conversation and model, then its stop reason, usage and cost). Answers and questions a regenerate or an edit replaced are left out; a stopped or failed answer has what it had shown; an answer still streaming has the text saved so far (its text part `streaming`), which `resume: true` then replaces and follows. Questions carry the server's ids, which `sendMessage({ text, messageId })` edits by. A page holds the chat's newest messages, at most `limit` and about 1 MiB of text (the newest always), oldest first, an answer streaming counted among them; `nextCursor` reads those before them (prepend them). A chat that has not started, or is another user's, has no messages: `200` with none.",
      params: { id: 'The chat id, as POST /v1/ui/chat takes it.' },
      responses: {
        200: {
          description: "The chat's newest messages, oldest first.",
          json: uiChatMessagesSchema,
        },
      },
      errors: [400],
    },
    handle: async ({ params, query, principal }) => {
      const { userId } = principal;
      const conversationId = conversationIdOfChat(userId, params.id ?? '');
      const conversation = await deps.store.getConversation(userId, conversationId);
      if (!conversation) return json(200, { messages: [] });
      // The answer streaming is the first page's newest message: read first, so that it
      // counts in the page's bounds.
      const active = query.cursor === undefined ? conversation.activeTurn : undefined;
      const answerSeq = conversation.lastSeq;
      const saved = active && (await deps.store.partialAnswer(userId, conversationId, answerSeq));
      const page = await deps.store.recentMessages(userId, conversationId, {
        limit: query.limit,
        ...(query.cursor !== undefined && { cursor: query.cursor }),
        maxTokens: PAGE_MAX_TOKENS,
        ...(conversation.superseded && { skip: conversation.superseded }),
        ...(saved && { streaming: { seq: answerSeq, tokens: estimateTokens(saved.text) } }),
      });
      const messages: UiMessage[] = page.items.map((message) =>
        storedUiMessage(message, conversationId),
      );
      // Stored once it ends: ended between the two reads, it is listed in its place.
      if (active && saved && page.items.at(-1)?.seq !== answerSeq) {
        messages.push(
          streamingUiMessage({
            id: active.turnId,
            conversationId,
            ...(active.hold && { model: active.hold.model }),
            text: saved.text,
          }),
        );
      }
      return json(200, {
        messages,
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      } satisfies z.infer<ReturnType<typeof uiChatMessagesSchema>>);
    },
  });

const uiChatMessagesSchema = () =>
  z.object({
    messages: z.array(
      z.object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        metadata: z.optional(uiMessageMetadataSchema().check(z.describe("An answer's metadata."))),
        parts: z.array(
          z.union([
            z.object({ type: z.literal('step-start') }),
            z.object({
              type: z.literal('text'),
              text: z.string(),
              state: z.optional(
                z
                  .enum(['streaming', 'done'])
                  .check(z.describe('`streaming` while the answer goes on; none on a question.')),
              ),
            }),
          ]),
        ),
      }),
    ),
    nextCursor: nextCursorSchema(),
  });
