import { anthropicRequestHeaders } from '../http/anthropic-headers.js';
import type { RequestScope } from '../http/chat-router.js';
import { messagesResponse } from '../http/messages-response.js';
import { defineRoute } from '../http/route.js';
import type { ForwardMessages } from '../messages/forward-messages.js';
import { MessagesRequestSchema } from '../messages/messages-request.js';
import type { MessagesObserver } from '../messages/messages-types.js';

/** POST /v1/messages: the Anthropic Messages API, governed (budgets, rate limits, cache). */
export const messagesRoute = (deps: {
  forwardMessages: ForwardMessages;
  observeMessages: (scope: RequestScope) => MessagesObserver;
}) =>
  defineRoute({
    method: 'POST',
    path: '/v1/messages',
    body: MessagesRequestSchema,
    handle: async ({ request, body, principal, scope }) => {
      scope.logger.appendKeys({ model: body.model, stream: body.stream === true });
      const answer = await deps.forwardMessages({
        caller: principal,
        body,
        ...anthropicRequestHeaders(request.headers),
        requestId: scope.requestId,
        remainingTimeMs: scope.remainingTimeMs,
        observer: deps.observeMessages(scope),
      });
      return messagesResponse(scope, answer);
    },
  });
