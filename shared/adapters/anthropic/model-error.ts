import Anthropic from '@anthropic-ai/sdk';
import { cutText } from '../../domain/cut-text.js';
import { ModelError, type ModelErrorKind, modelUnavailable } from '../../domain/errors.js';
import { quoted } from '../../domain/quoted.js';
import { refusesTheAccount } from './account-refusal.js';
import { contextOverflowOf, refusalReason } from './refusal-reason.js';

/**
 * The one place Anthropic SDK errors become ModelErrors. Mid-stream `event: error`
 * arrives as a plain APIError with no status, so the body's `type` decides, not the class.
 * @param model the call's, named in what a 404 says: the one thing of a Messages request
 *   the API can fail to find is its model
 */
export function toModelError(error: unknown, model?: string): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof Anthropic.APIUserAbortError) {
    return new ModelError('timeout', 'the model call was aborted', { cause: error });
  }
  if (error instanceof Anthropic.APIConnectionTimeoutError) {
    return new ModelError('timeout', 'the model did not answer in time', { cause: error });
  }
  if (error instanceof Anthropic.APIConnectionError) {
    return new ModelError('connection', 'could not reach the model', { cause: error });
  }
  if (error instanceof Anthropic.APIError) {
    const kind = kindOf(error.type, error.status, error.apiMessage);
    const retryAfterSeconds = retryAfterMs(error.headers);
    const overflow =
      kind === 'invalid_request' ? contextOverflowOf(error.apiMessage ?? undefined) : undefined;
    return new ModelError(kind, describe(kind, error.apiMessage ?? undefined, model), {
      cause: new UpstreamFailure(error),
      ...(retryAfterSeconds !== undefined && {
        retryAfterSeconds: Math.ceil(retryAfterSeconds / 1000),
      }),
      ...(overflow && {
        contextOverflow: {
          promptTokens: overflow.promptTokens,
          contextTokens: overflow.contextTokens,
        },
      }),
    });
  }
  // A socket dropped mid-stream surfaces as `TypeError: terminated` from undici.
  return new ModelError('connection', 'the model stream broke', { cause: error });
}

/** Bounds what the upstream said, for the log. */
const UPSTREAM_MESSAGE_CHARS = 500;

/**
 * What the log keeps of an API error: its class, status, type, code, request id and the
 * upstream's words, cut. The SDK's error carries every response header and the whole
 * body as fields of its own, which the logger would write out with it.
 */
export class UpstreamFailure extends Error {
  readonly status?: number;
  readonly type?: string;
  readonly errorCode?: string;
  readonly requestId?: string;

  constructor(error: InstanceType<typeof Anthropic.APIError>) {
    const said = error.apiMessage ?? error.message;
    super(cutText(said, UPSTREAM_MESSAGE_CHARS));
    this.name = error.name;
    if (error.status !== undefined) this.status = error.status;
    if (error.type) this.type = error.type;
    if (error.errorCode) this.errorCode = error.errorCode;
    if (error.requestID) this.requestId = error.requestID;
  }
}

/** An error the API reported as data (a batch request's result), by its `type` and words. */
export function modelErrorOfType(type: string, apiMessage?: string, model?: string): ModelError {
  const kind = kindOf(type, undefined, apiMessage);
  return new ModelError(kind, describe(kind, apiMessage, model));
}

function kindOf(
  type: string | null,
  status: number | undefined,
  apiMessage: string | null | undefined,
): ModelErrorKind {
  if (type === 'overloaded_error' || status === 529) return 'overloaded';
  if (type === 'rate_limit_error' || status === 429) return 'rate_limited';
  if (type === 'billing_error' || refusesTheAccount(status, apiMessage)) return 'billing';
  if (type === 'invalid_request_error' || status === 400 || status === 413) {
    return 'invalid_request';
  }
  if (type === 'authentication_error' || type === 'permission_error' || status === 401) {
    return 'authentication';
  }
  if (type === 'timeout_error' || status === 408 || status === 504) return 'timeout';
  // The model, retired or never one (`model: <id>`, the API says): every retry is refused so.
  if (type === 'not_found_error' || status === 404) return 'model_unavailable';
  return 'api_error';
}

/** Ours, for the caller; the upstream's own words (`apiMessage`) only as refusalReason takes them. */
function describe(kind: ModelErrorKind, apiMessage?: string, model?: string): string {
  switch (kind) {
    case 'overloaded':
      return 'the model is overloaded; try again shortly';
    case 'rate_limited':
      return 'the model provider is rate limiting this deployment; try again shortly';
    case 'invalid_request': {
      const reason = refusalReason(apiMessage);
      return reason
        ? `the model rejected the request: ${reason}`
        : 'the model rejected the request';
    }
    case 'authentication':
      return "the model provider rejected this deployment's credentials";
    case 'billing':
      return "the model provider refused to bill this deployment's account";
    case 'timeout':
      return 'the model did not answer in time';
    case 'model_unavailable':
      return `${modelUnavailable(model === undefined ? 'the model' : `the model ${quoted(model)}`)}; ask with another model`;
    default:
      return 'the model failed';
  }
}

/** The wait a response asks for, as the SDK reads it: `retry-after-ms`, else `retry-after`. */
export function retryAfterMs(headers: Headers | undefined | null): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Where `cappedRetryFetch` keeps the upstream's own `x-should-retry` (empty: it sent none)
 * when it overrides it: its `false` is for our SDK alone, never the caller's.
 */
export const UPSTREAM_SHOULD_RETRY = 'x-upstream-should-retry';

/**
 * The upstream's `x-should-retry`, which the SDK obeys over its own rules; undefined when
 * absent.
 */
export function shouldRetryOf(headers: Headers | undefined | null): boolean | undefined {
  const value = headers?.has(UPSTREAM_SHOULD_RETRY)
    ? headers.get(UPSTREAM_SHOULD_RETRY)
    : headers?.get('x-should-retry');
  return value === 'true' ? true : value === 'false' ? false : undefined;
}
