import {
  HttpError,
  ParameterValidationError,
  RequestValidationError,
  NotFoundError as RouteNotFoundError,
} from '@aws-lambda-powertools/event-handler/http';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  AppError,
  AuthenticationError,
  BudgetExceededError,
  ConflictError,
  type ErrorType,
  IdempotencyKeyReusedError,
  MethodNotAllowedError,
  ModelError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionError,
  RateLimitedError,
  UnsupportedContentEncodingError,
  UpstreamError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { countInternalError } from '../../../shared/observability/internal-errors.js';
import * as z from '../../../shared/validation/zod.js';
import type { ChatRequestContext } from './chat-router.js';
import { isHead, withoutBody } from './head.js';
import { routeNotFoundMessage } from './route-not-found.js';

const STATUS_BY_ERROR: ReadonlyArray<[abstract new (...args: never[]) => AppError, number]> = [
  [ValidationError, 400],
  [AuthenticationError, 401],
  [BudgetExceededError, 402],
  [PermissionError, 403],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedContentEncodingError, 415],
  // As the IETF's Idempotency-Key draft says (draft-ietf-httpapi-idempotency-key-header).
  [IdempotencyKeyReusedError, 422],
  [RateLimitedError, 429],
];

interface ErrorAnswer {
  status: number;
  type: ErrorType;
  message: string;
  /**
   * The Anthropic API's own `error.details`, passed on; ours only where an SDK acts on them
   * (see ValidationError).
   */
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * The one place errors become HTTP: our error vocabulary, Event Handler's routing and
 * validation errors, and anything else as a 500 whose body never leaks internals.
 * `reqCtx`, when given, names the unknown route in a 404's message.
 */
export function answerFor(error: unknown, reqCtx?: ChatRequestContext): ErrorAnswer {
  if (error instanceof ModelError) {
    const status =
      error.kind === 'overloaded'
        ? 529
        : error.kind === 'rate_limited'
          ? 429
          : error.retryable
            ? 503
            : 502;
    const headers: Record<string, string> = {
      ...(error.retryAfterSeconds !== undefined && {
        'retry-after': String(error.retryAfterSeconds),
      }),
      ...(error.shouldRetry !== undefined && { 'x-should-retry': String(error.shouldRetry) }),
    };
    return { status, type: error.type, message: error.message, headers };
  }
  if (error instanceof UpstreamError) {
    const headers: Record<string, string> = {
      ...(error.retryAfterSeconds !== undefined && {
        'retry-after': String(error.retryAfterSeconds),
      }),
      // The caller's SDK obeys it as ours did: a `false` spares upstream the retries it refused.
      ...(error.shouldRetry !== undefined && { 'x-should-retry': String(error.shouldRetry) }),
    };
    return {
      status: error.status,
      type: error.type,
      message: error.message,
      ...(error.details && { details: error.details }),
      headers,
    };
  }
  if (error instanceof AppError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    return {
      status,
      type: error.type,
      message: error.message,
      ...(error instanceof ValidationError && error.details && { details: error.details }),
      headers: headersOf(error),
    };
  }
  if (error instanceof RequestValidationError) {
    return { status: 400, type: 'invalid_request_error', message: validationMessage(error) };
  }
  if (error instanceof RouteNotFoundError) {
    const message = reqCtx ? routeNotFoundMessage(reqCtx) : 'no such route';
    return { status: 404, type: 'not_found_error', message };
  }
  // An empty path parameter (`/v1/conversations/%20`), or malformed percent-encoding.
  if (error instanceof ParameterValidationError || error instanceof URIError) {
    return { status: 400, type: 'invalid_request_error', message: 'the request path is not valid' };
  }
  if (error instanceof HttpError && error.statusCode < 500) {
    return { status: error.statusCode, type: 'invalid_request_error', message: error.message };
  }
  if (isDependencyUnavailable(error)) {
    return {
      status: 503,
      type: 'api_error',
      message: 'a service this API depends on is unavailable or throttling; retry shortly',
      headers: { 'retry-after': '1' },
    };
  }
  return { status: 500, type: 'api_error', message: 'Internal server error' };
}

/** Names of the AWS SDK's throttling and timeout errors, as its retry strategy classifies them. */
const MOMENTARY_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  // Ours: DynamoDB kept part of a batch unprocessed through every retry (throttling).
  'UnprocessedItemsError',
  'TooManyRequestsException',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // The token verifier's, when an OIDC issuer's key set cannot be had or used.
  'KeySetUnavailableError',
]);
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * An AWS call that failed for a reason of the moment, after the SDK's own retries:
 * throttled, timed out, a dropped connection or the service's own 5xx. Not a bug of ours.
 * The rules of `@smithy/service-error-classification`, restated: this module is in the
 * chat function's entry, which loads nothing of the AWS SDK. Its causes are looked at too:
 * Powertools Parameters wraps a Secrets Manager error in a GetParameterError.
 */
function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error)) return false;
  const { code, $fault, $metadata } = error as {
    code?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    MOMENTARY_ERROR_NAMES.has(error.name) ||
    NETWORK_ERROR_CODES.has(code ?? '') ||
    $fault === 'server' ||
    ($metadata?.httpStatusCode ?? 0) >= 500 ||
    $metadata?.httpStatusCode === 429 ||
    (depth < 3 && isDependencyUnavailable(error.cause, depth + 1))
  );
}

function headersOf(error: AppError): Record<string, string> {
  if (error instanceof RateLimitedError) return { 'retry-after': String(error.retryAfterSeconds) };
  // Calls in flight hold what it needs and give back what they do not spend as they end:
  // the Anthropic SDK (Claude Code's too) retries what this header says to, a 402 included.
  if (error instanceof BudgetExceededError && error.heldByCallsInFlight) {
    return { 'x-should-retry': 'true' };
  }
  if (error instanceof MethodNotAllowedError) return { allow: error.allowed.join(', ') };
  if (error instanceof UnsupportedContentEncodingError) {
    return { 'accept-encoding': error.accepted.join(', ') };
  }
  if (error instanceof AuthenticationError) {
    // RFC 6750: a refused token is `invalid_token`; no token at all is a bare challenge.
    return {
      'www-authenticate':
        error.reason === 'invalid' ? 'Bearer error="invalid_token"' : 'Bearer realm="api"',
    };
  }
  return {};
}

function validationMessage(error: RequestValidationError): string {
  const issues = (error.details?.issues ?? []) as Array<{ message: string; path?: PropertyKey[] }>;
  if (issues.length === 0) return 'the request body must be JSON';
  return issues
    .map(({ message, path = [] }) => {
      // Event Handler prefixes each path with the part of the request: `body`, `query`.
      const [part, ...rest] = path.map(String);
      if (part === 'body' && rest.length === 0 && /received string/.test(message)) {
        return 'the request body must be a JSON object (content-type: application/json)';
      }
      return rest.length > 0 ? `${rest.join('.')}: ${message}` : message;
    })
    .join('; ');
}

/**
 * Event Handler's error handler: answers `{"type":"error","error":{type,message,details?},
 * "requestId"}` (a HEAD, without it) and logs once, client errors at info and server errors
 * at error.
 */
export function errorHandler(baseLogger: Logger) {
  return async (error: Error, reqCtx: ChatRequestContext): Promise<Response> => {
    const scope = reqCtx.get('scope');
    const logger = scope?.logger ?? baseLogger;
    const requestId = scope?.requestId ?? reqCtx.context?.awsRequestId ?? 'unknown';
    const answer = answerFor(error, reqCtx);
    if (error instanceof UpstreamError && error.refusedDeploymentStatus === undefined) {
      // The Anthropic API's own error, passed on: not a failure of ours.
      logger.warn('upstream error passed on', {
        statusCode: answer.status,
        errorType: answer.type,
      });
    } else if (answer.status >= 500) {
      logger.error('request failed', { error, statusCode: answer.status });
      // The model's own failures are the error rate's (its alarm allows a few); the rest are ours.
      if (scope && !(error instanceof ModelError || error instanceof UpstreamError)) {
        countInternalError(scope.metrics);
      }
    } else {
      logger.info('request rejected', { statusCode: answer.status, errorType: answer.type });
    }
    const response = Response.json(
      {
        type: 'error',
        error: {
          type: answer.type,
          message: answer.message,
          ...(answer.details && { details: answer.details }),
        },
        requestId,
        request_id: requestId,
        ...(error instanceof AppError &&
          error.conversationId && {
            conversationId: error.conversationId,
          }),
      } satisfies ErrorBody,
      {
        status: answer.status,
        // `request-id` as the Anthropic API names it: the SDKs read it into their errors.
        headers: { ...answer.headers, 'x-request-id': requestId, 'request-id': requestId },
      },
    );
    return isHead(reqCtx.req) ? withoutBody(response) : response;
  };
}

// A record, so that an ErrorType this list lacks fails to compile.
const ERROR_TYPES: Record<ErrorType, true> = {
  invalid_request_error: true,
  authentication_error: true,
  permission_error: true,
  not_found_error: true,
  conflict_error: true,
  request_too_large: true,
  billing_error: true,
  rate_limit_error: true,
  timeout_error: true,
  overloaded_error: true,
  api_error: true,
};

/** `error.type` of an error body or event, for the API document. Built on call, never at load. */
export const errorTypeSchema = () =>
  z.enum(Object.keys(ERROR_TYPES) as [ErrorType, ...ErrorType[]]);

/** Every error response's body, for the API document and the tests. Built on call, never at load. */
export const errorBodySchema = () =>
  z.object({
    type: z.literal('error'),
    error: z.object({
      type: errorTypeSchema(),
      message: z.string(),
      details: z.optional(
        z
          .record(z.string(), z.unknown())
          .check(
            z.describe(
              "The Anthropic API's own `error.details` (`error_code` names the cause), on an error it answered `/v1/messages` with; and ours, as the API words them, where an SDK acts on them (`thread_unsupported_request` for the refused message-threads beta).",
            ),
          ),
      ),
    }),
    requestId: z.string().check(z.describe('Also in the x-request-id header and every log line.')),
    request_id: z
      .string()
      .check(z.describe('The same, where the Anthropic API puts it (and its SDKs look for it).')),
    conversationId: z.optional(
      z.string().check(z.describe('The conversation the question was kept in: retry in it.')),
    ),
  });

type ErrorBody = z.infer<ReturnType<typeof errorBodySchema>>;
