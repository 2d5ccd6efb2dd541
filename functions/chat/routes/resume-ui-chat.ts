import { NotFoundError } from '../../../shared/domain/errors.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import {
  UI_MESSAGE_STREAM_FRAMING,
  UI_MESSAGE_STREAM_HEADERS,
  uiMessageStreamEncoder,
} from '../protocols/ui-message-stream.js';
import { uiMessageStreamChunkSchemas } from '../protocols/ui-message-stream-events.js';
import { messageIdSchema } from '../request-schemas.js';
import type { FollowTurn } from '../turn/follow-turn.js';
import { conversationIdOfChat } from './ui-chat-id.js';

/**
 * GET /v1/ui/chat/{id}/stream: what `useChat({ resume: true })` calls when a chat is
 * opened (a reload, a phone back online). The answer streaming in the chat, replayed from
 * its start (the AI SDK replaces the message with the replay), then followed to its end;
 * `204` when nothing streams, a chat not started yet included. With `?messageId=`, the
 * answer a reopened chat's messages had as streaming: ended before this call (between the
 * two), it is replayed whole with its end, not left as the messages had it.
 */
export const resumeUiChatRoute = (deps: {
  followTurn: FollowTurn;
  limits: { pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/ui/chat/:id/stream',
    query: z.object({
      messageId: z.optional(
        messageIdSchema().check(
          z.describe(
            'The answer the chat has as streaming (GET /v1/ui/chat/{id}/messages gave it so): ended since, it is replayed whole with its end, rather than `204`.',
          ),
        ),
      ),
    }),
    docs: {
      operationId: 'resumeUiChat',
      summary: "Resume a useChat chat's streaming answer (UI message stream protocol v1)",
      description:
        "What `useChat({ resume: true })` calls as it opens a chat: the answer streaming in the chat's conversation, from its start (useChat replaces the message it had with the replay), then the rest as it comes, as POST /v1/ui/chat streams it. `204` when nothing is streaming, including a chat that has not started. With `messageId`, an answer that ended since the chat's messages were read (the chat's last) is replayed whole with its end.",
      params: { id: 'The chat id, as POST /v1/ui/chat takes it.' },
      responses: {
        200: {
          description: 'The answer so far, then the rest, in the UI message stream protocol v1.',
          events: uiMessageStreamChunkSchemas,
          framing: UI_MESSAGE_STREAM_FRAMING,
          headers: { 'x-vercel-ai-ui-message-stream': '`v1`: the protocol of the stream.' },
        },
        204: {
          description:
            'Nothing is streaming in the chat (and `messageId`, if given, is not its last answer).',
        },
      },
      errors: [400, 429],
    },
    handle: async ({ params, query, principal, scope }) => {
      const followed = await deps
        .followTurn({
          userId: principal.userId,
          ...(principal.apiKey && { apiKey: principal.apiKey }),
          conversationId: conversationIdOfChat(principal.userId, params.id ?? ''),
          after: {
            offset: 0,
            ...(query.messageId !== undefined && { messageId: query.messageId }),
          },
          remainingTimeMs: scope.remainingTimeMs,
        })
        .catch((error: unknown) => {
          // A chat whose first message has not been sent: nothing to resume, not an error.
          if (error instanceof NotFoundError) return undefined;
          throw error;
        });
      if (!followed) return json(204);
      const encode = uiMessageStreamEncoder();
      return sseResponse(
        scope,
        async (write) => {
          for await (const event of followed.events) write(encode(event));
        },
        { pingIntervalMs: deps.limits.pingIntervalMs, headers: UI_MESSAGE_STREAM_HEADERS },
      );
    },
  });
