/**
 * The error vocabulary. Each class carries the API error `type` clients see; the
 * mapping to HTTP status lives in one place (shared/http/error-response.ts).
 * Explicit `name`s survive minification.
 */
export abstract class AppError extends Error {
  abstract readonly type: string;
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly type = 'invalid_request_error';
}

export class AuthenticationError extends AppError {
  override readonly name = 'AuthenticationError';
  readonly type = 'authentication_error';
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly type = 'not_found_error';
}

export class MethodNotAllowedError extends AppError {
  override readonly name = 'MethodNotAllowedError';
  readonly type = 'method_not_allowed';
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly type = 'conflict';
}

export class PayloadTooLargeError extends AppError {
  override readonly name = 'PayloadTooLargeError';
  readonly type = 'request_too_large';
}

export class BudgetExceededError extends AppError {
  override readonly name = 'BudgetExceededError';
  readonly type = 'budget_exceeded';
}

export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  readonly type = 'rate_limit_exceeded';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
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
  | 'api_error';

export class ModelError extends AppError {
  override readonly name = 'ModelError';
  readonly type: string;
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.type = MODEL_ERROR_TYPES[kind];
  }

  /** Whether the same request may succeed later. */
  get retryable(): boolean {
    return ['overloaded', 'rate_limited', 'timeout', 'connection', 'api_error'].includes(this.kind);
  }
}

const MODEL_ERROR_TYPES: Record<ModelErrorKind, string> = {
  overloaded: 'overloaded_error',
  rate_limited: 'rate_limit_error',
  timeout: 'timeout_error',
  connection: 'api_connection_error',
  invalid_request: 'invalid_request_error',
  authentication: 'api_error',
  api_error: 'api_error',
};

export class ServiceUnavailableError extends AppError {
  override readonly name = 'ServiceUnavailableError';
  readonly type = 'service_unavailable';
}
