import * as z from '../../validation/zod.js';

/** Dollars are kept as integer nano-dollars so sums are exact. */
export const NANO_USD_PER_USD = 1_000_000_000;

// A price that is a whole number of $0.001 per million tokens is a whole number of
// nano-dollars per token, so every cost below is integer arithmetic.
const usdPerMillionTokens = () =>
  z.number().check(
    z.nonnegative(),
    z.refine((usd) => Number.isInteger(Math.round(usd * 1e6) / 1e3), {
      message: 'prices must be multiples of $0.001 per million tokens',
    }),
  );

const tokenPrices = () => ({
  input: usdPerMillionTokens(),
  output: usdPerMillionTokens(),
  cacheWrite5m: usdPerMillionTokens(),
  cacheWrite1h: usdPerMillionTokens(),
  cacheRead: usdPerMillionTokens(),
});

/** One model's prices. Built on call: only a deployment that overrides prices parses any. */
export const modelPriceSchema = () =>
  z.strictObject({
    ...tokenPrices(),
    /**
     * Prices by prompt length (Claude Haiku 5.5): a call whose prompt (input, cache reads and
     * cache writes) is over `overTokens` pays these for all its tokens, output included.
     */
    longPrompt: z.optional(
      z.strictObject({ overTokens: z.int().check(z.positive()), ...tokenPrices() }),
    ),
  });

/** USD per million tokens for each kind of token. */
export type ModelPrice = z.infer<ReturnType<typeof modelPriceSchema>>;

/** The prices one call pays: a model's, or its long-prompt ones. */
export type TokenPrices = Omit<ModelPrice, 'longPrompt'>;

/** Price overrides by model. Built on call. */
export const modelPricesSchema = () =>
  z.record(z.string().check(z.minLength(1)), modelPriceSchema());

export function nanoUsdPerToken(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1000);
}

export function nanoToUsd(nanoUsd: number): number {
  return nanoUsd / NANO_USD_PER_USD;
}

export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}
