import type { ErrorType } from '../../../shared/domain/errors.js';
import type { ErrorStatus } from '../http/route.js';

interface ErrorStatusDoc {
  /** The component's name: `#/components/responses/<name>`. */
  name: string;
  description: string;
  types: readonly ErrorType[];
  /** Headers this status carries, besides `x-request-id`. */
  headers?: readonly ('retry-after' | 'www-authenticate' | 'x-should-retry')[];
}

/**
 * What each error status means on this API (the mapping itself is `http/error-response.ts`).
 * 401 and 403 of admin routes, 400 of validated routes and of routes with a path parameter,
 * 500 and 503 are added by the document.
 */
export const ERROR_STATUSES: Readonly<Record<ErrorStatus | 401 | 500, ErrorStatusDoc>> = {
  400: {
    name: 'BadRequest',
    description:
      'The body, query or path is not valid (the message names the field), or a value is not allowed here (a model, max_tokens over the cap, a beta).',
    types: ['invalid_request_error'],
    headers: ['x-should-retry'],
  },
  401: {
    name: 'Unauthorized',
    description:
      'No credential, or one that is not valid (an unknown, revoked or expired API key, a bad JWT).',
    types: ['authentication_error'],
    headers: ['www-authenticate'],
  },
  402: {
    name: 'BudgetExceeded',
    description:
      "The request does not fit the user's, the API key's or the deployment's monthly budget. When only what calls in flight hold stands in the way (they give back what they do not spend as they end), with `x-should-retry: true`.",
    types: ['billing_error'],
    headers: ['x-should-retry'],
  },
  403: {
    name: 'Forbidden',
    description:
      'A model there is (one the price table prices) that the deployment or the API key does not allow; the admin API without the admin claim.',
    types: ['permission_error'],
  },
  404: {
    name: 'NotFound',
    description:
      "Nothing of the caller's by that id (or an id that is not well formed); a model there is not, one neither allowed nor priced here (the price table's defaults and `modelPrices`), never sent upstream: on `/v1/messages` and `count_tokens` as the Anthropic API answers it (`model: …`), on `/v1/chat` and `/v1/ui/chat` naming it (the question is not stored, as no refused one is), on `POST /v1/jobs` naming it (nothing recorded or queued); or, on `/v1/messages` and `count_tokens`, the Anthropic API's own 404 passed on (a dated snapshot of an allowed model passes the model check).",
    types: ['not_found_error'],
    headers: ['x-should-retry'],
  },
  409: {
    name: 'Conflict',
    description:
      'The conversation is busy (a turn is streaming), or nothing is there to act on (no turn streaming to stop; a job running, or ended other than cancelled, to cancel); a `jobId` already used for other content; a revoked API key, to change; a retry of an API key’s creation whose secret can no longer be shown (the signing key changed since: revoke the key it names).',
    types: ['conflict_error'],
  },
  413: {
    name: 'ContentTooLarge',
    description:
      "The document is larger than the deployment accepts (`maxDocumentBytes`); on `/v1/messages` and `count_tokens`, the Anthropic API's own 413 passed on.",
    types: ['request_too_large'],
    headers: ['x-should-retry'],
  },
  422: {
    name: 'IdempotencyKeyReused',
    description:
      "The `Idempotency-Key` was sent before with another request (another body): its first answer is not this request's. Send this request with a new key.",
    types: ['invalid_request_error'],
  },
  429: {
    name: 'RateLimited',
    description:
      "The caller's (or the API key's) requests or tokens per minute, or Claude's own rate limit; retry after `retry-after` seconds.",
    types: ['rate_limit_error'],
    headers: ['retry-after', 'x-should-retry'],
  },
  500: {
    name: 'InternalError',
    description:
      "A bug of ours; the body never carries internals (the request id finds the log). On `/v1/messages`, `count_tokens` and `/v1/models`, also the Anthropic API's own 500 passed on.",
    types: ['api_error'],
    headers: ['x-should-retry'],
  },
  502: {
    name: 'BadGateway',
    description:
      'Claude could not start answering and retrying will not help: it refused the prompt a chat turn built (`invalid_request_error`), or, on `/v1/chat` and `/v1/ui/chat`, the Anthropic API does not know the turn’s model, retired say (`not_found_error`, the model named: ask with another); or the Anthropic API refused the deployment’s own key or account (on `/v1/messages`, `count_tokens` and `/v1/models` with `x-should-retry: false`, unless the API said otherwise).',
    types: ['api_error', 'invalid_request_error', 'not_found_error'],
    headers: ['x-should-retry'],
  },
  503: {
    name: 'Unavailable',
    description:
      "Claude could not start answering in time (after retries and the fallback model), or DynamoDB, SQS or Secrets Manager is throttling or failing after retries, or an OIDC issuer's key set cannot be read (with `retry-after`); retrying may help. A non-streamed `/v1/messages` call cut at the function's deadline (billed as written to `max_tokens`) carries `x-should-retry: false`: stream it.",
    types: ['api_error', 'timeout_error'],
    headers: ['retry-after', 'x-should-retry'],
  },
  529: {
    name: 'Overloaded',
    description: 'Claude is overloaded (after retries and the fallback model); retry later.',
    types: ['overloaded_error'],
    headers: ['retry-after', 'x-should-retry'],
  },
};

/**
 * Any other error status of a route that passes on the Anthropic API's errors
 * (`passesOnUpstreamErrors`): documented as the ranges `4XX` and `5XX`.
 */
export const UPSTREAM_ERROR: ErrorStatusDoc = {
  name: 'UpstreamError',
  description:
    'An error response of the Anthropic API (after `modelMaxRetries` retries for a caller whose client does not retry itself; an official SDK or the AI SDK gets one upstream call per attempt), passed on with its status (a 408, 409, 422 or 504 `timeout_error` too), type, `error.details` and `x-should-retry`, so that the SDKs raise the error they would have.',
  types: [
    'invalid_request_error',
    'conflict_error',
    'rate_limit_error',
    'timeout_error',
    'overloaded_error',
    'api_error',
  ],
  headers: ['retry-after', 'x-should-retry'],
};
