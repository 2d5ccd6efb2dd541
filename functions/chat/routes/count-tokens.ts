import * as z from '../../../shared/validation/zod.js';
import { anthropicRequestHeaders, rateLimitHeaders } from '../http/anthropic-headers.js';
import { bodyWithExactNumbers } from '../http/exact-numbers.js';
import { defineRoute } from '../http/route.js';
import { GOVERNED_HEADERS } from '../messages/anthropic-payloads.js';
import type { CountTokens } from '../messages/count-tokens.js';
import { CountTokensRequestSchema } from '../messages/messages-request.js';

/** POST /v1/messages/count_tokens: forwarded, free, rate-limited. */
export const countTokensRoute = (deps: { countTokens: CountTokens }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/messages/count_tokens',
    body: CountTokensRequestSchema,
    docs: {
      operationId: 'countMessageTokens',
      summary: 'Count the tokens of a Messages request',
      description:
        "Forwarded to the Anthropic API: free, but counted in the caller's rate limit. The model must be allowed.",
      externalDocs: {
        url: 'https://docs.anthropic.com/en/api/messages-count-tokens',
        description: "Anthropic's token counting API",
      },
      responses: {
        200: {
          description: "Anthropic's count.",
          json: () => z.looseObject({ input_tokens: z.int().check(z.nonnegative()) }),
          headers: GOVERNED_HEADERS,
        },
      },
      errors: [403, 404, 413, 429, 502, 503, 529],
      passesOnUpstreamErrors: true,
    },
    handle: async ({ request, body, principal }) => {
      const { anthropicVersion, betas, callerRetries } = anthropicRequestHeaders(request.headers);
      const counted = await deps.countTokens({
        caller: principal,
        body,
        exactBody: await bodyWithExactNumbers(request),
        betas,
        callerRetries,
        ...(anthropicVersion && { anthropicVersion }),
      });
      return new Response(counted.body, {
        status: counted.status,
        headers: {
          'content-type': 'application/json',
          ...rateLimitHeaders(counted.rateWindows),
        },
      });
    },
  });
