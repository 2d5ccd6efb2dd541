import {
  AppError,
  AuthenticationError,
  BudgetExceededError,
  ConflictError,
  MethodNotAllowedError,
  ModelError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServiceUnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { type JsonResponse, jsonResponse } from './json-response.js';

const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => AppError, number]> = [
  [ValidationError, 400],
  [AuthenticationError, 401],
  [BudgetExceededError, 402],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [RateLimitedError, 429],
  [ServiceUnavailableError, 503],
];

/**
 * The one place errors become HTTP. Our own errors show their message; anything else
 * is a 500 whose body never leaks internals.
 */
export function errorResponse(error: unknown): JsonResponse {
  if (error instanceof ModelError) {
    const status = error.kind === 'overloaded' ? 529 : error.retryable ? 503 : 502;
    return jsonResponse(status, errorBody(error.type, error.message));
  }
  if (error instanceof AppError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    const headers: Record<string, string> =
      error instanceof RateLimitedError ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    return jsonResponse(status, errorBody(error.type, error.message), headers);
  }
  return jsonResponse(500, errorBody('api_error', 'Internal server error'));
}

export function errorBody(type: string, message: string) {
  return { error: { type, message } };
}
