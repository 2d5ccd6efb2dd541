import { withoutDateSuffix } from '../model-id.js';
import { GEO_NOT_AVAILABLE, isRegionalInference, type TokenUsage } from '../usage.js';
import {
  BATCH_PRICE_RATIO,
  DEFAULT_MODEL_PRICES,
  MODELS_WITHOUT_INFERENCE_GEO,
  REGIONAL_INFERENCE_PRICE_RATIO,
} from './default-prices.js';

/** How a call was made: `batch` calls (the Message Batches API) cost {@link BATCH_PRICE_RATIO} of the list price. */
export type PriceTier = 'standard' | 'batch';

import { type ModelPrice, nanoUsdPerToken, type TokenPrices } from './model-price.js';

/** Prices per model, and the exact cost of a call in nano-dollars. */
export class PriceTable {
  private readonly prices: ReadonlyMap<string, ModelPrice>;

  /**
   * @param overrides the modelPrices setting, merged over the defaults model by model
   * @param options.workspaceInferenceGeo where a call runs whose request and usage name no
   *   geography (the workspace's default_inference_geo)
   */
  constructor(
    overrides: Readonly<Record<string, ModelPrice>> = {},
    private readonly options: { workspaceInferenceGeo?: string } = {},
  ) {
    this.prices = new Map(Object.entries({ ...DEFAULT_MODEL_PRICES, ...overrides }));
  }

  has(model: string): boolean {
    return this.prices.has(model) || this.prices.has(withoutDateSuffix(model));
  }

  priceOf(model: string): ModelPrice {
    const price = this.prices.get(model) ?? this.prices.get(withoutDateSuffix(model));
    if (!price) throw new Error(`no price for model ${JSON.stringify(model)}`);
    return price;
  }

  /**
   * Exact cost in nano-dollars; cache reads and writes are priced apart. A batch call's
   * tokens cost {@link BATCH_PRICE_RATIO} of the list price, and a regional one's (4.6 and
   * later) {@link REGIONAL_INFERENCE_PRICE_RATIO} (both, for both), rounded up to the next
   * nano-dollar (a price of $0.001 per million tokens is one nano-dollar a token). A usage
   * that names no geography (an estimate: the answer never said) ran in the workspace's.
   */
  costNanoUsd(model: string, usage: TokenUsage, tier: PriceTier = 'standard'): number {
    const price = this.pricesFor(
      model,
      usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens,
    );
    const write1h = usage.cacheCreation1hInputTokens ?? 0;
    const write5m = usage.cacheCreationInputTokens - write1h;
    const tokens =
      usage.inputTokens * nanoUsdPerToken(price.input) +
      usage.outputTokens * nanoUsdPerToken(price.output) +
      usage.cacheReadInputTokens * nanoUsdPerToken(price.cacheRead) +
      write5m * nanoUsdPerToken(price.cacheWrite5m) +
      write1h * nanoUsdPerToken(price.cacheWrite1h);
    const ratios = [
      ...(tier === 'batch' ? [BATCH_PRICE_RATIO] : []),
      ...(this.isRegional(model, usage.inferenceGeo) ? [REGIONAL_INFERENCE_PRICE_RATIO] : []),
    ];
    return (usage.webSearchRequests ?? 0) * WEB_SEARCH_NANO_USD + scaled(tokens, ratios);
  }

  /**
   * Upper bound of a call's cost: every prompt token at the dearest input price
   * (a cache write can cost more than plain input) and every allowed output token,
   * at the prices a prompt of `promptTokens` pays.
   * @param promptTokens an upper bound of the prompt's tokens
   * @param inferenceGeo the request's `inference_geo`, if it names one (else the workspace's)
   */
  worstCaseNanoUsd(
    model: string,
    promptTokens: number,
    maxOutputTokens: number,
    inferenceGeo?: string,
  ): number {
    const price = this.pricesFor(model, promptTokens);
    const dearestInput = Math.max(price.input, price.cacheWrite5m, price.cacheWrite1h);
    const tokens =
      promptTokens * nanoUsdPerToken(dearestInput) +
      maxOutputTokens * nanoUsdPerToken(price.output);
    return this.isRegional(model, inferenceGeo)
      ? scaled(tokens, [REGIONAL_INFERENCE_PRICE_RATIO])
      : tokens;
  }

  /** The prices a call with a prompt of `promptTokens` pays. */
  private pricesFor(model: string, promptTokens: number): TokenPrices {
    const { longPrompt, ...price } = this.priceOf(model);
    return longPrompt && promptTokens > longPrompt.overTokens ? longPrompt : price;
  }

  /** Whether a call costs {@link REGIONAL_INFERENCE_PRICE_RATIO}: never for a model before 4.6. */
  private isRegional(model: string, inferenceGeo: string | undefined): boolean {
    if (MODELS_WITHOUT_INFERENCE_GEO.has(withoutDateSuffix(model))) return false;
    const named = inferenceGeo === GEO_NOT_AVAILABLE ? undefined : inferenceGeo;
    return isRegionalInference(named ?? this.options.workspaceInferenceGeo);
  }
}

/** A server-side web search: $10 per 1,000 (docs, November 2026), on top of its tokens. */
export const WEB_SEARCH_NANO_USD = 10_000_000;

/** Nano-dollars times ratios of whole numbers, rounded up once: never a float's 1.1. */
function scaled(nanoUsd: number, ratios: ReadonlyArray<{ times: number; per: number }>): number {
  const times = ratios.reduce((product, ratio) => product * ratio.times, 1);
  const per = ratios.reduce((product, ratio) => product * ratio.per, 1);
  return Math.ceil((nanoUsd * times) / per);
}
