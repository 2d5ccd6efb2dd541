import type { Fault } from './directives.js';
import { ApiError } from './errors.js';

/** Real rate-limit answers always say when to retry; a fault that does not say gets this. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The context window the API's refusal of a too long prompt names (the Claude 4 models'). */
const CONTEXT_WINDOW_TOKENS = 200_000;

/**
 * What the API answers, as a 400 `invalid_request_error` and not a 402, when the account
 * calling it has no credit left (anthropics/anthropic-sdk-typescript#618).
 */
const OUT_OF_CREDIT_MESSAGE =
  'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.';

/** The error response an `error-before` fault answers with, its headers and details included. */
export function faultError(fault: Extract<Fault, { kind: 'error-before' }>): ApiError {
  const retryAfter =
    fault.retryAfterSeconds ??
    (fault.type === 'rate_limit_error' ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  return new ApiError(
    fault.type,
    fault.promptTokens !== undefined
      ? `prompt is too long: ${fault.promptTokens} tokens > ${CONTEXT_WINDOW_TOKENS} maximum`
      : fault.outOfCredit
        ? OUT_OF_CREDIT_MESSAGE
        : undefined,
    fault.status,
    {
      ...(retryAfter !== undefined && { 'retry-after': String(retryAfter) }),
      ...(fault.shouldRetry !== undefined && { 'x-should-retry': String(fault.shouldRetry) }),
    },
    fault.errorCode === undefined ? undefined : { error_code: fault.errorCode },
  );
}
