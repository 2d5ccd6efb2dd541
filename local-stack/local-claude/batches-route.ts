import { planAnswer } from './answer.js';
import { checkApiHeaders } from './api-headers.js';
import { DIRECTIVE_HEADER, parseDirective } from './directives.js';
import { ApiError, errorObject, invalidRequest } from './errors.js';
import { type Exchange, parseJsonBody, sendJson } from './exchange.js';
import { faultError } from './fault-error.js';
import { newBatchId, newMessageId } from './ids.js';
import { reportedInferenceGeo } from './models.js';
import { untilAborted } from './pacing.js';
import { directivesIn, lastUserText, promptSegments, withoutDirectives } from './prompt.js';
import { parseMessagesRequest } from './request.js';
import type { LocalClaudeService } from './service.js';
import { messageJson } from './wire.js';

/** One request's outcome, decided when the batch is created and shown once it has ended. */
type BatchResult =
  | { type: 'succeeded'; message: unknown }
  | { type: 'errored'; error: { type: 'error'; error: { type: string; message: string } } }
  | { type: 'canceled' };

/** A Message Batch as the local Claude keeps it. */
export interface StoredBatch {
  id: string;
  createdAtMs: number;
  /** When processing ends (`processing_status: ended`); a cancel brings it forward. */
  endsAtMs: number;
  /** When each request is processed, in order: spread evenly until `endsAtMs` as created. */
  doneAtMs: number[];
  /** When its cancel was asked (`processing_status: canceling` until `endsAtMs`). */
  cancelInitiatedAtMs?: number;
  results: Array<{ custom_id: string; result: BatchResult }>;
}

const BATCH_PATH = /^\/v1\/messages\/batches\/([^/]+)(\/results|\/cancel)?$/;
/** How long a cancelled batch stays `canceling` before it has ended. */
const CANCELING_MS = 100;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** The API's limit on requests per batch. */
const MAX_REQUESTS = 100_000;
/** Batches expire 24 hours after creation. */
const EXPIRES_AFTER_MS = 24 * 3600_000;

/** Whether a method and path belong to the Message Batches API. */
export const isBatchesPath = (path: string) =>
  path === '/v1/messages/batches' || BATCH_PATH.test(path);

/**
 * The Message Batches API: create (`POST /v1/messages/batches`), retrieve (`GET …/{id}`),
 * cancel (`POST …/{id}/cancel`) and results (`GET …/{id}/results`, JSONL). Each request is
 * answered as `/v1/messages` would answer it without streaming, its directives included: an `error-before` fault
 * makes its result `errored` with that error type; any other fault an `errored`
 * `api_error`. A batch is `in_progress` for `batchProcessingMs` (or the header directive
 * `batch-ms=<n>` on create), its requests processed one after another over that time, then
 * `ended` with a `results_url` on this server; a cancel ends it sooner (cancelBatch). Header
 * directive faults (`fault=error-before status=…`, `fault=hang`) apply to each endpoint.
 * @throws ApiError for every answer that is an error
 */
export async function handleBatches(
  exchange: Exchange,
  rawBody: string,
  service: LocalClaudeService,
): Promise<void> {
  checkApiHeaders(exchange.record.headers);
  const header = parseDirective([exchange.record.headers[DIRECTIVE_HEADER] ?? '']);
  const fault = service.faults.select(header, '');
  if (fault?.kind === 'error-before') throw faultError(fault);
  if (fault?.kind === 'hang') {
    await untilAborted(exchange.signal);
    return;
  }
  const { method, path } = exchange.record;
  if (method === 'POST' && path === '/v1/messages/batches') {
    const batch = createBatch(parseJsonBody(rawBody), service, header.batchMs);
    service.batches.set(batch.id, batch);
    sendJson(exchange, 200, batchJson(batch, originOf(exchange)));
    return;
  }
  const match = BATCH_PATH.exec(path);
  const batch = match ? service.batches.get(decodeURIComponent(match[1]!)) : undefined;
  const cancels = match?.[2] === '/cancel';
  if (!match || method !== (cancels ? 'POST' : 'GET'))
    throw new ApiError('not_found_error', `Not found: ${method} ${path}`);
  if (!batch) throw new ApiError('not_found_error', `No batch found with id ${match[1]}`);
  if (cancels) {
    cancelBatch(batch);
    sendJson(exchange, 200, batchJson(batch, originOf(exchange)));
    return;
  }
  if (!match[2]) {
    sendJson(exchange, 200, batchJson(batch, originOf(exchange)));
    return;
  }
  if (Date.now() < batch.endsAtMs) {
    throw invalidRequest(
      `Batch ${batch.id} is still processing; results are available once it has ended.`,
    );
  }
  exchange.res.writeHead(200, { 'content-type': 'application/binary' });
  exchange.res.end(batch.results.map((line) => `${JSON.stringify(line)}\n`).join(''));
}

function createBatch(body: unknown, service: LocalClaudeService, batchMs?: number): StoredBatch {
  const requests = (body as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw invalidRequest('requests: Field required (a list of at least one request)');
  }
  if (requests.length > MAX_REQUESTS) {
    throw invalidRequest(`requests: at most ${MAX_REQUESTS} requests per batch`);
  }
  const seen = new Set<string>();
  const results = requests.map((entry: unknown, index: number) => {
    const { custom_id: customId, params } = (entry ?? {}) as {
      custom_id?: unknown;
      params?: unknown;
    };
    if (typeof customId !== 'string' || !CUSTOM_ID.test(customId)) {
      throw invalidRequest(
        `requests.${index}.custom_id: 1-64 characters of letters, digits, _ and -`,
      );
    }
    if (seen.has(customId))
      throw invalidRequest(`requests.${index}.custom_id: duplicate ${customId}`);
    seen.add(customId);
    return { custom_id: customId, result: answer(params, service) };
  });
  const now = Date.now();
  const processingMs = batchMs ?? service.batchProcessingMs;
  return {
    id: newBatchId(),
    createdAtMs: now,
    endsAtMs: now + processingMs,
    doneAtMs: results.map((_, index) => now + (processingMs * (index + 1)) / results.length),
    results,
  };
}

/**
 * Cancels a batch still processing, as the API does: it is `canceling` for a moment, then
 * `ended`; the requests processed by then keep their result, the others end `canceled`. A
 * batch cancelled already, or ended, is left as it is.
 */
function cancelBatch(batch: StoredBatch): void {
  const now = Date.now();
  if (batch.cancelInitiatedAtMs !== undefined || now >= batch.endsAtMs) return;
  batch.cancelInitiatedAtMs = now;
  batch.endsAtMs = Math.min(batch.endsAtMs, now + CANCELING_MS);
  batch.results = batch.results.map((line, index) =>
    (batch.doneAtMs[index] ?? 0) <= now ? line : { ...line, result: { type: 'canceled' } },
  );
}

/** What /v1/messages would have answered without streaming, as a batch result. */
function answer(params: unknown, service: LocalClaudeService): BatchResult {
  try {
    const request = parseMessagesRequest({ ...(params as object), stream: false }, service.models);
    const text = lastUserText(request);
    const directive = parseDirective(directivesIn(text));
    const fault = service.faults.select(directive, request.model);
    if (fault?.kind === 'error-before') {
      const error = faultError(fault);
      return errored(error.type, error.message);
    }
    if (fault) {
      return errored(
        fault.kind === 'error-mid' || fault.kind === 'error-first' ? fault.type : 'api_error',
      );
    }
    const prompt = withoutDirectives(text).replace(/\s+/g, ' ').trim();
    const plan = planAnswer(request, directive, prompt);
    const cache = service.cache.apply(request.model, promptSegments(request));
    const model = directive.answerModel ?? request.model;
    const message = messageJson(
      {
        messageId: newMessageId(),
        model,
        cache: { ...cache, inputTokens: directive.inputTokens ?? cache.inputTokens },
        answer: plan,
        inferenceGeo: reportedInferenceGeo(model, request.inference_geo),
      },
      true,
    );
    return {
      type: 'succeeded',
      message: { ...message, usage: { ...message.usage, service_tier: 'batch' } },
    };
  } catch (error) {
    if (error instanceof ApiError) return errored(error.type, error.message);
    throw error;
  }
}

function errored(type: Parameters<typeof errorObject>[0], message?: string): BatchResult {
  return { type: 'errored', error: { type: 'error', error: errorObject(type, message) } };
}

/** The batch object of the API: counts, status and, once ended, where its results are. */
function batchJson(batch: StoredBatch, origin: string) {
  const ended = Date.now() >= batch.endsAtMs;
  const count = (type: BatchResult['type']) =>
    ended ? batch.results.filter((line) => line.result.type === type).length : 0;
  const cancelling = batch.cancelInitiatedAtMs !== undefined;
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: ended ? 'ended' : cancelling ? 'canceling' : 'in_progress',
    // Requests stay `processing` until the whole batch has ended, as the API counts them.
    request_counts: {
      processing: ended ? 0 : batch.results.length,
      succeeded: count('succeeded'),
      errored: count('errored'),
      canceled: count('canceled'),
      expired: 0,
    },
    ended_at: ended ? new Date(batch.endsAtMs).toISOString() : null,
    created_at: new Date(batch.createdAtMs).toISOString(),
    expires_at: new Date(batch.createdAtMs + EXPIRES_AFTER_MS).toISOString(),
    archived_at: null,
    cancel_initiated_at: cancelling ? new Date(batch.cancelInitiatedAtMs!).toISOString() : null,
    results_url: ended ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/** This server as the client reached it: results_url must point back here. */
function originOf(exchange: Exchange): string {
  return `http://${exchange.record.headers.host ?? '127.0.0.1'}`;
}
