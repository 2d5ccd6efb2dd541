import { handleBatches, isBatchesPath } from './batches-route.js';
import { handleCountTokens } from './count-tokens-route.js';
import { ApiError } from './errors.js';
import type { Exchange } from './exchange.js';
import { handleMessages } from './messages-route.js';
import { handleGetModel, handleListModels } from './models-route.js';
import type { LocalClaudeService } from './service.js';

const MODEL_PATH = /^\/v1\/models\/([^/]+)$/;

/**
 * Sends a request to its endpoint.
 * @throws ApiError 404 `not_found_error` for any other method and path, and what the endpoint throws
 */
export async function route(
  exchange: Exchange,
  url: URL,
  rawBody: string,
  service: LocalClaudeService,
): Promise<void> {
  const { method, path } = exchange.record;
  const model = MODEL_PATH.exec(path);
  if (method === 'POST' && path === '/v1/messages') {
    return handleMessages(exchange, rawBody, service);
  }
  if (isBatchesPath(path)) return handleBatches(exchange, rawBody, service);
  if (method === 'POST' && path === '/v1/messages/count_tokens') {
    return handleCountTokens(exchange, rawBody, service);
  }
  if (method === 'GET' && path === '/v1/models') {
    return handleListModels(exchange, url.searchParams, service);
  }
  if (method === 'GET' && model) {
    return handleGetModel(exchange, decodeURIComponent(model[1]!), service);
  }
  throw new ApiError('not_found_error', `Not found: ${method} ${path}`);
}
