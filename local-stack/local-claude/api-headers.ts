import { ApiError, invalidRequest } from './errors.js';

/**
 * The headers every API call needs: a key (the SDK sends `Authorization: Bearer <key>`,
 * curl users `x-api-key`; any value is accepted) and `anthropic-version`.
 * @throws ApiError 401 `authentication_error` or 400 `invalid_request_error`
 */
export function checkApiHeaders(headers: Record<string, string>): void {
  const bearer = /^Bearer\s+\S/i.test(headers.authorization ?? '');
  if (!headers['x-api-key'] && !bearer) {
    throw new ApiError('authentication_error', 'x-api-key header is required');
  }
  if (!headers['anthropic-version']) throw invalidRequest('anthropic-version: header is required');
}
