import type { ModelPrice } from './model-price.js';

/**
 * Anthropic list prices in USD per million tokens (docs, November 2026: the pricing page and
 * each model's page, platform.claude.com/docs/en/models/<model>/overview).
 * Override or extend with the MODEL_PRICES setting; never edit prices elsewhere.
 */
export const DEFAULT_MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  // Cache reads at a quarter of Fable 5's: 0.025 times the input price.
  'claude-fable-5-1': {
    input: 10,
    output: 50,
    cacheWrite5m: 12.5,
    cacheWrite1h: 20,
    cacheRead: 0.25,
  },
  'claude-fable-5': { input: 10, output: 50, cacheWrite5m: 12.5, cacheWrite1h: 20, cacheRead: 1 },
  // Cache reads at 0.05 times the input price, not 0.1 (Sonnet 5.5's since 2026-10-07).
  'claude-opus-5-5': { input: 4, output: 20, cacheWrite5m: 5, cacheWrite1h: 8, cacheRead: 0.2 },
  'claude-sonnet-5-5': { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.1 },
  'claude-opus-5': opus(),
  'claude-sonnet-5': { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 },
  'claude-opus-4-8': opus(),
  'claude-opus-4-7': opus(),
  'claude-opus-4-6': opus(),
  'claude-opus-4-5': opus(),
  'claude-sonnet-4-6': sonnet(),
  'claude-sonnet-4-5': sonnet(),
  // Priced by prompt length; the 5 models' cache ratios (1.25, 2 and 0.1 times input) in both.
  'claude-haiku-5-5': {
    input: 0.1,
    output: 0.5,
    cacheWrite5m: 0.125,
    cacheWrite1h: 0.2,
    cacheRead: 0.01,
    longPrompt: {
      overTokens: 100_000,
      input: 0.5,
      output: 2.5,
      cacheWrite5m: 0.625,
      cacheWrite1h: 1,
      cacheRead: 0.05,
    },
  },
  'claude-haiku-4-5': {
    input: 1,
    output: 5,
    cacheWrite5m: 1.25,
    cacheWrite1h: 2,
    cacheRead: 0.1,
  },
};

/**
 * What the Message Batches API charges, as a fraction of the list price, for every kind
 * of token (input, output, cache writes and reads): half (docs, November 2026). Ratios are
 * of whole numbers, so that costs stay exact: 3,000 × 1.1 is 3,300.0000000000005 in floats.
 */
export const BATCH_PRICE_RATIO = { times: 1, per: 2 } as const;

/**
 * What inference held to one geography (`inference_geo: "us"`) costs, as a multiple of the
 * list price, for every kind of token; searches are not affected (docs, November 2026).
 */
export const REGIONAL_INFERENCE_PRICE_RATIO = { times: 11, per: 10 } as const;

/**
 * Models released before Claude 4.6: they take no `inference_geo` (a request naming one is a
 * 400), report `not_available`, and are billed the list price even in a workspace whose
 * default_inference_geo is `us` (docs, November 2026: "Older models … standard pricing applies").
 */
export const MODELS_WITHOUT_INFERENCE_GEO: ReadonlySet<string> = new Set([
  'claude-opus-4-5',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
]);

function opus(): ModelPrice {
  return { input: 5, output: 25, cacheWrite5m: 6.25, cacheWrite1h: 10, cacheRead: 0.5 };
}

function sonnet(): ModelPrice {
  return { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 };
}
