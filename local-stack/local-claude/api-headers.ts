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

const MID_CONVERSATION_SYSTEM_BETA = 'mid-conversation-system-2026-04-07';

/**
 * A `system` message among the messages is a beta: without its header it is refused.
 * @throws ApiError 400 `invalid_request_error`
 */
export function checkSystemMessages(
  headers: Record<string, string>,
  messages: ReadonlyArray<{ role: string }>,
): void {
  const index = messages.findIndex((message) => message.role === 'system');
  if (index === -1) return;
  const betas = (headers['anthropic-beta'] ?? '').split(',').map((beta) => beta.trim());
  if (!betas.includes(MID_CONVERSATION_SYSTEM_BETA)) {
    throw invalidRequest(
      `messages.${index}.role: a system message needs the ${MID_CONVERSATION_SYSTEM_BETA} beta`,
    );
  }
}
