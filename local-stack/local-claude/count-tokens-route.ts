import { checkApiHeaders } from './api-headers.js';
import { type Exchange, parseJsonBody, sendJson } from './exchange.js';
import { answeredByFault } from './message.js';
import { promptSegments, promptTokens } from './prompt.js';
import { parseCountTokensRequest } from './request.js';
import { directRequest } from './request-directive.js';
import type { LocalClaudeService } from './service.js';

/**
 * POST /v1/messages/count_tokens: the same checks as /v1/messages (minus the output
 * fields), answered with the total input tokens that request would report: input, cache
 * read and cache creation together. It reads and writes no cache. Directives apply:
 * `input-tokens` replaces the count, faults show as they do without streaming.
 * @throws ApiError for every answer that is an error
 */
export async function handleCountTokens(
  exchange: Exchange,
  rawBody: string,
  service: LocalClaudeService,
): Promise<void> {
  checkApiHeaders(exchange.record.headers);
  const request = parseCountTokensRequest(parseJsonBody(rawBody), service.models);
  const directed = await directRequest(exchange, request, service);
  if (!directed || (await answeredByFault(exchange, directed.fault))) return;
  const inputTokens = directed.directive.inputTokens ?? promptTokens(promptSegments(request));
  sendJson(exchange, 200, { input_tokens: inputTokens });
}
