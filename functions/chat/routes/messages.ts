import { anthropicRequestHeaders } from '../http/anthropic-headers.js';
import type { RequestScope } from '../http/chat-router.js';
import { bodyWithExactNumbers } from '../http/exact-numbers.js';
import { messagesResponse } from '../http/messages-response.js';
import { defineRoute } from '../http/route.js';
import {
  ANTHROPIC_API_REFERENCE,
  ANTHROPIC_STREAM_FRAMING,
  anthropicMessageSchema,
  anthropicStreamEventSchemas,
  GOVERNED_HEADERS,
} from '../messages/anthropic-payloads.js';
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
    docs: {
      operationId: 'createMessage',
      summary: "Anthropic's Messages API, governed",
      description:
        "Checked here: the model (the deployment's and the key's allowed models), `max_tokens` (at most `messagesMaxTokens`) and the `anthropic-beta` values; every other field goes upstream unchanged, with the client's `anthropic-version`, and the answer comes back unchanged: Anthropic's Message, or with `stream: true` its Server-Sent Events. Budgets and rate limits apply; an identical request may be replayed from the response cache (`x-cache`). An error of the Anthropic API keeps its status and type.",
      externalDocs: { url: ANTHROPIC_API_REFERENCE, description: "Anthropic's Messages API" },
      responses: {
        200: {
          description: "Anthropic's Message as JSON, or with `stream: true` its events.",
          json: anthropicMessageSchema,
          events: anthropicStreamEventSchemas,
          framing: ANTHROPIC_STREAM_FRAMING,
          headers: {
            ...GOVERNED_HEADERS,
            'x-cache': '`hit` (replayed, free), `miss`, `bypass`, `refresh` or `off`.',
            'x-upstream-request-id':
              "The Anthropic API's own request id for the call (absent on a replay): what Anthropic's support asks for.",
          },
        },
      },
      errors: [402, 403, 404, 413, 429, 502, 503, 529],
      passesOnUpstreamErrors: true,
    },
    handle: async ({ request, body, principal, scope }) => {
      scope.logger.appendKeys({ model: body.model, stream: body.stream === true });
      const answer = await deps.forwardMessages({
        caller: principal,
        body,
        exactBody: await bodyWithExactNumbers(request),
        ...anthropicRequestHeaders(request.headers),
        requestId: scope.requestId,
        remainingTimeMs: scope.remainingTimeMs,
        observer: deps.observeMessages(scope),
      });
      return messagesResponse(scope, answer);
    },
  });
