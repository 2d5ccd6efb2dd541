import { anthropicRequestHeaders } from '../http/anthropic-headers.js';
import type { RequestScope } from '../http/chat-router.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import { chatEventEncoder } from '../protocols/chat-sse.js';
import { chatRequestSchema } from '../request-schemas.js';
import type { ChatTurn } from '../turn/chat-turn.js';
import type { TurnObserver } from '../turn/turn-types.js';

/** POST /v1/chat: one turn, streamed as Server-Sent Events. */
export const chatRoute = (deps: {
  chatTurn: ChatTurn;
  observeTurn: (scope: RequestScope) => TurnObserver;
  limits: { maxMessageChars: number; pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'POST',
    path: '/v1/chat',
    body: chatRequestSchema(deps.limits),
    handle: async ({ request, body, principal, scope }) => {
      const turn = await deps.chatTurn.start(
        {
          ...body,
          userId: principal.userId,
          ...(principal.apiKey && { apiKey: principal.apiKey }),
          cache: anthropicRequestHeaders(request.headers).cache,
        },
        {
          requestId: scope.requestId,
          observer: deps.observeTurn(scope),
          remainingTimeMs: scope.remainingTimeMs,
        },
      );
      scope.logger.appendKeys({ conversationId: turn.conversationId, messageId: turn.messageId });
      const encode = chatEventEncoder();
      return sseResponse(scope, (write) => turn.run((event) => write(encode(event))), {
        pingIntervalMs: deps.limits.pingIntervalMs,
        headers: { 'x-cache': turn.cache },
      });
    },
  });
