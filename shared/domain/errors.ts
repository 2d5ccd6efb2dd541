/**
 * The error vocabulary. Each class carries the API error `type` clients see, in
 * Anthropic's naming; the mapping to HTTP status lives in one place
 * (functions/chat/http/error-response.ts). Explicit `name`s survive minification.
 */
export abstract class AppError extends Error {
  abstract readonly type: ErrorType;
  /** The conversation the failed request's question was kept in, so a retry can continue it. */
  conversationId?: string;
}

/** The error types clients see: Anthropic's, so one client can read both APIs. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'request_too_large'
  | 'billing_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'overloaded_error'
  | 'api_error';

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    /**
     * `error.details` as the Anthropic API would give them (its `error_code`), for a refusal
     * an SDK acts on as on the API's own.
     */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class AuthenticationError extends AppError {
  override readonly name = 'AuthenticationError';
  readonly type = 'authentication_error';
  constructor(
    message: string,
    /** `missing`: no credentials were sent; `invalid`: they were, and were refused. */
    readonly reason: 'missing' | 'invalid',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller is known, and may not do this (an admin route, a model its key does not allow). */
export class PermissionError extends AppError {
  override readonly name = 'PermissionError';
  readonly type = 'permission_error';
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly type = 'not_found_error';
}

export class MethodNotAllowedError extends AppError {
  override readonly name = 'MethodNotAllowedError';
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    /** The methods the path does answer. */
    readonly allowed: readonly string[],
  ) {
    super(message);
  }
}

/**
 * A request body in a content coding this API does not decode (`Content-Encoding: gzip`):
 * RFC 9110 §8.4.1 answers it 415, naming the codings accepted.
 */
export class UnsupportedContentEncodingError extends AppError {
  override readonly name = 'UnsupportedContentEncodingError';
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    /** The content codings a body may have. */
    readonly accepted: readonly string[],
  ) {
    super(message);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly type = 'conflict_error';
}

/**
 * An Idempotency-Key sent again with another request than the one it was first sent with:
 * the first request's answer cannot be given for it, and making a second would defeat the key.
 */
export class IdempotencyKeyReusedError extends AppError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly type = 'invalid_request_error';
}

export class PayloadTooLargeError extends AppError {
  override readonly name = 'PayloadTooLargeError';
  readonly type = 'request_too_large';
}

export class BudgetExceededError extends AppError {
  override readonly name = 'BudgetExceededError';
  readonly type = 'billing_error';
  /**
   * What the budget has not spent would cover the call: calls in flight hold the rest,
   * and give back what they do not spend when they settle. Trying later may succeed.
   */
  readonly heldByCallsInFlight: boolean;
  constructor(message: string, options?: { cause?: unknown; heldByCallsInFlight?: boolean }) {
    super(message, options);
    this.heldByCallsInFlight = options?.heldByCallsInFlight ?? false;
  }
}

export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  readonly type = 'rate_limit_error';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * An error response of the Anthropic API, passed on to a /v1/messages caller with its
 * status and type (after the SDK's retries).
 */
export class UpstreamError extends AppError {
  override readonly name = 'UpstreamError';
  /** How long the upstream asked to wait before retrying. */
  readonly retryAfterSeconds?: number;
  /** The upstream's `x-should-retry`: whether the same request may succeed, when it said. */
  readonly shouldRetry?: boolean;
  /** The upstream's `error.details` (`{error_code, …}`), by which the SDKs pick a typed error. */
  readonly details?: Record<string, unknown>;
  /**
   * The upstream's own status, when it refused the deployment (its key, its account) and
   * this answer is ours: a failure for an operator, not the caller's error passed on.
   */
  readonly refusedDeploymentStatus?: number;
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    options: {
      retryAfterSeconds?: number;
      shouldRetry?: boolean;
      details?: Record<string, unknown>;
      refusedDeploymentStatus?: number;
    } = {},
  ) {
    super(message);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.shouldRetry = options.shouldRetry;
    this.details = options.details;
    if (options.refusedDeploymentStatus !== undefined) {
      this.refusedDeploymentStatus = options.refusedDeploymentStatus;
    }
  }
}

/** What went wrong with the model provider, in our words. */
export type ModelErrorKind =
  | 'overloaded'
  | 'rate_limited'
  | 'timeout'
  | 'connection'
  | 'invalid_request'
  | 'authentication'
  | 'billing'
  /** The model is not the provider's (retired, or never one): no retry can make it so. */
  | 'model_unavailable'
  | 'api_error';

/** A prompt the model refused as longer than its context window, by the model's own count. */
export interface ContextOverflow {
  /** The prompt's tokens, as the model counted them. */
  promptTokens: number;
  /** The model's context window, which the prompt and the answer's `max_tokens` share. */
  contextTokens: number;
}

export class ModelError extends AppError {
  override readonly name = 'ModelError';
  readonly type: ErrorType;
  /** When the provider said how long to wait before trying again. */
  readonly retryAfterSeconds?: number;
  /** Set when the model refused the prompt as too long for it. */
  readonly contextOverflow?: ContextOverflow;
  /**
   * Whether a client's SDK should send the same request again (`x-should-retry`), when its
   * own rules would get it wrong: undefined leaves them to decide.
   */
  readonly shouldRetry?: boolean;
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    options?: {
      cause?: unknown;
      retryAfterSeconds?: number;
      shouldRetry?: boolean;
      contextOverflow?: ContextOverflow;
    },
  ) {
    super(message, options);
    this.type = MODEL_ERROR_TYPES[kind];
    if (options?.retryAfterSeconds !== undefined) {
      this.retryAfterSeconds = options.retryAfterSeconds;
    }
    if (options?.contextOverflow) this.contextOverflow = options.contextOverflow;
    if (options?.shouldRetry !== undefined) this.shouldRetry = options.shouldRetry;
  }

  /** Whether the same request may succeed later. */
  get retryable(): boolean {
    return ['overloaded', 'rate_limited', 'timeout', 'connection', 'api_error'].includes(this.kind);
  }
}

/** Whether `value` is a ModelErrorKind (a stored one, read back). */
export function isModelErrorKind(value: unknown): value is ModelErrorKind {
  return typeof value === 'string' && Object.hasOwn(MODEL_ERROR_TYPES, value);
}

/** What is said of a model the provider does not know (kind `model_unavailable`), named as `what`. */
export function modelUnavailable(what: string): string {
  return `${what} is not available: the Anthropic API does not know it (retired, or never one)`;
}

const MODEL_ERROR_TYPES: Record<ModelErrorKind, ErrorType> = {
  overloaded: 'overloaded_error',
  rate_limited: 'rate_limit_error',
  timeout: 'timeout_error',
  connection: 'api_error',
  invalid_request: 'invalid_request_error',
  // The deployment's credentials were refused: our fault, not the caller's.
  authentication: 'api_error',
  // The deployment's account could not pay: ours too (a caller's 402 means their budget).
  billing: 'api_error',
  model_unavailable: 'not_found_error',
  api_error: 'api_error',
};
