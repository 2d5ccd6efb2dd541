import { anthropicRequestHeaders, rateLimitHeaders } from '../http/anthropic-headers.js';
import { defineRoute } from '../http/route.js';
import type { CountTokens } from '../messages/count-tokens.js';
import { CountTokensRequestSchema } from '../messages/messages-request.js';

/** POST /v1/messages/count_tokens: forwarded, free, rate-limited. */
export const countTokensRoute = (deps: { countTokens: CountTokens }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/messages/count_tokens',
    body: CountTokensRequestSchema,
    handle: async ({ request, body, principal, scope }) => {
      const { anthropicVersion, betas } = anthropicRequestHeaders(request.headers);
      const counted = await deps.countTokens({
        caller: principal,
        body,
        betas,
        ...(anthropicVersion && { anthropicVersion }),
      });
      return new Response(counted.body, {
        status: counted.status,
        headers: {
          'content-type': 'application/json',
          'request-id': scope.requestId,
          ...rateLimitHeaders(counted.rateWindows),
        },
      });
    },
  });
