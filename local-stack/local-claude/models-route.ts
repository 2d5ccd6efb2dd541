import { checkApiHeaders } from './api-headers.js';
import { ApiError, invalidRequest } from './errors.js';
import { type Exchange, sendJson } from './exchange.js';
import { modelInfo } from './model-info.js';
import type { LocalClaudeService } from './service.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/**
 * GET /v1/models: the configured models, the most recently released first as the API lists
 * them (models of one date in the order given), in pages of
 * `limit` (1–1000, default 20) after `after_id` or before `before_id`.
 * @throws ApiError 400 on a bad limit or an unknown cursor
 */
export function handleListModels(
  exchange: Exchange,
  query: URLSearchParams,
  service: LocalClaudeService,
): void {
  checkApiHeaders(exchange.record.headers);
  const limit = parseLimit(query.get('limit'));
  const lifecycles = [...query.getAll('lifecycle'), ...query.getAll('lifecycle[]')];
  const models = [...service.models]
    .map((id) => modelInfo(id, service.models))
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .filter((model) => lifecycles.length === 0 || lifecycles.includes(model.lifecycle));
  const { start, end, hasMore } = pageOf(
    models.map((model) => model.id),
    limit,
    query.get('before_id'),
    query.get('after_id'),
  );
  const data = models.slice(start, end);
  sendJson(exchange, 200, {
    data,
    has_more: hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  });
}

/**
 * GET /v1/models/{model_id}: one configured model.
 * @throws ApiError 404 `not_found_error` for an id that is not configured
 */
export function handleGetModel(exchange: Exchange, id: string, service: LocalClaudeService): void {
  checkApiHeaders(exchange.record.headers);
  if (!service.models.has(id)) throw new ApiError('not_found_error', `model: ${id}`);
  sendJson(exchange, 200, modelInfo(id, service.models));
}

function parseLimit(text: string | null): number {
  if (text === null) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(limit)) {
    throw invalidRequest('limit: Input should be a valid integer');
  }
  if (limit < 1) throw invalidRequest('limit: Input should be greater than or equal to 1');
  if (limit > MAX_LIMIT) {
    throw invalidRequest(`limit: Input should be less than or equal to ${MAX_LIMIT}`);
  }
  return limit;
}

/** The slice of `ids` a page covers, and whether more lie beyond it in that direction. */
function pageOf(
  ids: readonly string[],
  limit: number,
  beforeId: string | null,
  afterId: string | null,
): { start: number; end: number; hasMore: boolean } {
  if (beforeId !== null && afterId !== null) {
    throw invalidRequest('before_id and after_id cannot be used together');
  }
  if (beforeId !== null) {
    const end = cursorIndex(ids, beforeId, 'before_id');
    const start = Math.max(0, end - limit);
    return { start, end, hasMore: start > 0 };
  }
  const start = afterId === null ? 0 : cursorIndex(ids, afterId, 'after_id') + 1;
  const end = Math.min(start + limit, ids.length);
  return { start, end, hasMore: end < ids.length };
}

function cursorIndex(ids: readonly string[], id: string, name: string): number {
  const index = ids.indexOf(id);
  if (index === -1) throw invalidRequest(`${name}: no model with id '${id}'`);
  return index;
}
