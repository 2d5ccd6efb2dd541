/** The error types of the Anthropic API, with the status each is sent with. */
export const ERROR_STATUS = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

const TYPE_BY_STATUS = new Map<number, ErrorType>(
  Object.entries(ERROR_STATUS).map(([type, status]) => [status, type as ErrorType]),
);

/** Messages close to the real API's, for faults that do not say otherwise. */
const DEFAULT_MESSAGE: Record<ErrorType, string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of requests has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

export function isErrorType(value: string): value is ErrorType {
  return Object.hasOwn(ERROR_STATUS, value);
}

export function errorTypeForStatus(status: number): ErrorType | undefined {
  return TYPE_BY_STATUS.get(status);
}

/**
 * The `error` object of the wire format: `{"type": "...", "message": "..."}`, and
 * `details` (`{"error_code": "..."}`) for an error that names its cause.
 */
export function errorObject(
  type: ErrorType,
  message = DEFAULT_MESSAGE[type],
  details?: Record<string, unknown>,
) {
  return { type, message, ...(details && { details }) };
}

/** An error answered as `{"type":"error","error":{…},"request_id":…}` with its status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly type: ErrorType,
    message: string = DEFAULT_MESSAGE[type],
    readonly status: number = ERROR_STATUS[type],
    readonly headers: Record<string, string> = {},
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(requestId: string) {
    return {
      type: 'error',
      error: errorObject(this.type, this.message, this.details),
      request_id: requestId,
    };
  }
}

/** A 400 `invalid_request_error`, the answer to every malformed request. */
export const invalidRequest = (message: string) => new ApiError('invalid_request_error', message);
