import type { ThinkingConfig } from './request-schema.js';

/**
 * The model ids a local Claude accepts unless told otherwise (the SDK's current ids), newest
 * first as the API lists them (`model-info.ts` has their release dates).
 */
export const DEFAULT_MODELS: readonly string[] = [
  'claude-haiku-5-5',
  'claude-sonnet-5-5',
  'claude-opus-5-5',
  'claude-fable-5-1',
  'claude-opus-5',
  'claude-sonnet-5',
  'claude-fable-5',
  'claude-opus-4-8',
  'claude-opus-4-7',
  'claude-sonnet-4-6',
  'claude-opus-4-6',
  'claude-opus-4-5',
  'claude-opus-4-5-20251101',
  'claude-haiku-4-5',
  'claude-haiku-4-5-20251001',
  'claude-sonnet-4-5',
  'claude-sonnet-4-5-20250929',
];

/** Largest `max_tokens` per model (the models overview's "max output"), where known. */
const MAX_OUTPUT_TOKENS: Record<string, number> = {
  'claude-fable-5-1': 128_000,
  'claude-fable-5': 128_000,
  'claude-opus-5-5': 128_000,
  'claude-opus-5': 128_000,
  'claude-sonnet-5-5': 128_000,
  'claude-sonnet-5': 128_000,
  'claude-haiku-5-5': 128_000,
  'claude-opus-4-6': 128_000,
  'claude-opus-4-5': 64_000,
  'claude-opus-4-5-20251101': 64_000,
  'claude-sonnet-4-6': 128_000,
  'claude-sonnet-4-5': 64_000,
  'claude-sonnet-4-5-20250929': 64_000,
  'claude-haiku-4-5': 64_000,
  'claude-haiku-4-5-20251001': 64_000,
};

/**
 * Models that think with no `thinking` asked for (Opus 5: "thinking on by default"; the 5.5
 * models and Fable 5.1: adaptive, always on), showing nothing of it under their default display.
 */
const THINKS_BY_DEFAULT = new Set([
  'claude-haiku-5-5',
  'claude-sonnet-5-5',
  'claude-opus-5-5',
  'claude-fable-5-1',
  'claude-opus-5',
]);

/** The thinking a request gets: its own, else the model's default (none for most models). */
export const thinkingOf = (request: {
  model: string;
  thinking?: ThinkingConfig | undefined;
}): ThinkingConfig | undefined =>
  request.thinking ??
  (THINKS_BY_DEFAULT.has(request.model) ? { type: 'adaptive', display: 'omitted' } : undefined);

/** The output limit of a model; undefined (nothing enforced) when not known here. */
export const maxOutputTokens = (model: string): number | undefined => MAX_OUTPUT_TOKENS[model];

/** Models before Claude 4.6 take no `inference_geo`: their `usage` says `not_available`. */
const WITHOUT_INFERENCE_GEO = /^claude-(opus|sonnet|haiku)-4-5(-\d{8})?$/;

/** Where a reply says inference ran: the request's `inference_geo`, else `global`. */
export const reportedInferenceGeo = (model: string, requested: unknown): string =>
  WITHOUT_INFERENCE_GEO.test(model)
    ? 'not_available'
    : typeof requested === 'string'
      ? requested
      : 'global';
