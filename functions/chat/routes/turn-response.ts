import { anthropicRequestHeaders } from '../http/anthropic-headers.js';
import type { RequestScope } from '../http/chat-router.js';
import type { RouteInput } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import { chatEventEncoder } from '../protocols/chat-sse.js';
import type { ChatTurn } from '../turn/chat-turn.js';
import type { TurnObserver, TurnRequest } from '../turn/turn-types.js';

export interface TurnRouteDependencies {
  chatTurn: ChatTurn;
  observeTurn: (scope: RequestScope) => TurnObserver;
  limits: { pingIntervalMs: number };
}

/**
 * Starts a turn for the caller and streams it as our chat SSE: what POST /v1/chat and
 * POST /v1/conversations/{id}/regenerate answer. Errors before the stream are thrown.
 */
export async function turnResponse(
  deps: TurnRouteDependencies,
  input: Pick<RouteInput<unknown, unknown>, 'request' | 'principal' | 'scope'>,
  request: Omit<TurnRequest, 'userId' | 'apiKey' | 'cache'>,
): Promise<Response> {
  const { principal, scope } = input;
  const turn = await deps.chatTurn.start(
    {
      ...request,
      userId: principal.userId,
      ...(principal.apiKey && { apiKey: principal.apiKey }),
      cache: anthropicRequestHeaders(input.request.headers).cache,
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
}
