import { NotFoundError } from '../../../shared/domain/errors.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import {
  UI_MESSAGE_STREAM_FRAMING,
  UI_MESSAGE_STREAM_HEADERS,
  uiMessageStreamEncoder,
} from '../protocols/ui-message-stream.js';
import { uiMessageStreamChunkSchemas } from '../protocols/ui-message-stream-events.js';
import type { FollowTurn } from '../turn/follow-turn.js';
import { conversationIdOfChat } from './ui-chat-id.js';

/**
 * GET /v1/ui/chat/{id}/stream: what `useChat({ resume: true })` calls when a chat is
 * opened (a reload, a phone back online). The answer streaming in the chat, replayed from
 * its start (the AI SDK replaces the message with the replay), then followed to its end;
 * `204` when nothing streams, a chat not started yet included.
 */
export const resumeUiChatRoute = (deps: {
  followTurn: FollowTurn;
  limits: { pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/ui/chat/:id/stream',
    docs: {
      operationId: 'resumeUiChat',
      summary: "Resume a useChat chat's streaming answer (UI message stream protocol v1)",
      description:
        "What `useChat({ resume: true })` calls as it opens a chat: the answer streaming in the chat's conversation, from its start (useChat replaces the message it had with the replay), then the rest as it comes, as POST /v1/ui/chat streams it. `204` when nothing is streaming, including a chat that has not started.",
      params: { id: 'The chat id, as POST /v1/ui/chat takes it.' },
      responses: {
        200: {
          description: 'The answer so far, then the rest, in the UI message stream protocol v1.',
          events: uiMessageStreamChunkSchemas,
          framing: UI_MESSAGE_STREAM_FRAMING,
          headers: { 'x-vercel-ai-ui-message-stream': '`v1`: the protocol of the stream.' },
        },
        204: { description: 'Nothing is streaming in the chat.' },
      },
      errors: [400, 429],
    },
    handle: async ({ params, principal, scope }) => {
      const followed = await deps
        .followTurn({
          userId: principal.userId,
          ...(principal.apiKey && { apiKey: principal.apiKey }),
          conversationId: conversationIdOfChat(principal.userId, params.id ?? ''),
          after: { offset: 0 },
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
