import { describe, expect, it } from 'vitest';
import { modelPricesSchema, nanoToUsd } from '../../../../../shared/domain/pricing/model-price.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';

// Usage shapes as Claude reports them (message_start + message_delta, merged).
const SONNET_CACHED_TURN = {
  inputTokens: 1_200,
  outputTokens: 350,
  cacheReadInputTokens: 15_000,
  cacheCreationInputTokens: 2_000,
};

describe('PriceTable', () => {
  const prices = new PriceTable();

  it('prices input, output, cache reads and cache writes apart', () => {
    // 1200 x $3 + 350 x $15 + 15000 x $0.30 + 2000 x $3.75, per million tokens
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-5', SONNET_CACHED_TURN))).toBe(0.02085);
  });

  it('prices 1-hour cache writes at their own rate', () => {
    const usage = { ...SONNET_CACHED_TURN, cacheCreation1hInputTokens: 500 };
    // 1500 x $3.75 + 500 x $6 instead of 2000 x $3.75
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-5', usage))).toBe(0.021975);
  });

  it('prices a batch call at half the list price of every kind of token', () => {
    const usage = { ...SONNET_CACHED_TURN, cacheCreation1hInputTokens: 500 };
    expect(prices.costNanoUsd('claude-sonnet-4-5', usage, 'batch')).toBe(
      prices.costNanoUsd('claude-sonnet-4-5', usage) / 2,
    );
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-5', usage, 'batch'))).toBe(0.0109875);
  });

  it('rounds a batch cost that is not a whole nano-dollar up, never down', () => {
    const tiny = new PriceTable({
      cheap: { input: 0.001, output: 0.001, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 },
    });
    const usage = {
      inputTokens: 3,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
    };
    expect(tiny.costNanoUsd('cheap', usage, 'batch')).toBe(2);
  });

  it('keeps web searches at their own price in a batch', () => {
    const usage = { ...SONNET_CACHED_TURN, webSearchRequests: 1 };
    expect(prices.costNanoUsd('claude-sonnet-4-5', usage, 'batch')).toBe(
      prices.costNanoUsd('claude-sonnet-4-5', SONNET_CACHED_TURN) / 2 + 10_000_000,
    );
  });

  it('prices server-side web searches at $10 per thousand, on top of the tokens', () => {
    const usage = { ...SONNET_CACHED_TURN, webSearchRequests: 3 };
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-5', usage))).toBe(0.02085 + 0.03);
  });

  it('prices inference held to one geography at 1.1 times every kind of token, not its searches', () => {
    const regional = { ...SONNET_CACHED_TURN, inferenceGeo: 'us', webSearchRequests: 2 };
    // $0.02085 of tokens x 1.1, and 2 searches at $0.01
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', regional))).toBe(0.022935 + 0.02);
    expect(
      prices.costNanoUsd('claude-sonnet-4-6', { ...SONNET_CACHED_TURN, inferenceGeo: 'global' }),
    ).toBe(prices.costNanoUsd('claude-sonnet-4-6', SONNET_CACHED_TURN));
  });

  it("prices a usage that names no geography in the workspace's, and one that names one in its own", () => {
    const usWorkspace = new PriceTable({}, { workspaceInferenceGeo: 'us' });
    expect(nanoToUsd(usWorkspace.costNanoUsd('claude-sonnet-4-6', SONNET_CACHED_TURN))).toBe(
      0.022935,
    );
    expect(
      usWorkspace.costNanoUsd('claude-sonnet-4-6', {
        ...SONNET_CACHED_TURN,
        inferenceGeo: 'global',
      }),
    ).toBe(prices.costNanoUsd('claude-sonnet-4-6', SONNET_CACHED_TURN));
    expect(usWorkspace.worstCaseNanoUsd('claude-sonnet-4-6', 1000, 100)).toBe(8_250_000);
    expect(usWorkspace.worstCaseNanoUsd('claude-sonnet-4-6', 1000, 100, 'global')).toBe(7_500_000);
  });

  it('prices a regional batch call at both ratios', () => {
    const regional = { ...SONNET_CACHED_TURN, inferenceGeo: 'us' };
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', regional, 'batch'))).toBe(0.0114675);
  });

  it('never prices a model before Claude 4.6 as regional: it reports not_available and pays the list price, whatever the workspace', () => {
    const usWorkspace = new PriceTable({}, { workspaceInferenceGeo: 'us' });
    const notAvailable = { ...SONNET_CACHED_TURN, inferenceGeo: 'not_available' };
    for (const model of ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5', 'claude-opus-4-5']) {
      const listPrice = prices.costNanoUsd(model, SONNET_CACHED_TURN);
      expect(prices.costNanoUsd(model, notAvailable)).toBe(listPrice);
      expect(usWorkspace.costNanoUsd(model, notAvailable)).toBe(listPrice);
      expect(usWorkspace.costNanoUsd(model, SONNET_CACHED_TURN)).toBe(listPrice);
      expect(usWorkspace.worstCaseNanoUsd(model, 1000, 100)).toBe(
        prices.worstCaseNanoUsd(model, 1000, 100),
      );
    }
    // 1200 x $1 + 350 x $5 + 15000 x $0.10 + 2000 x $1.25, per million: not 1.1 times it
    expect(nanoToUsd(usWorkspace.costNanoUsd('claude-haiku-4-5', notAvailable))).toBe(0.00695);
  });

  it("prices a 4.6 or later answer that says not_available as one that names no geography: the workspace's", () => {
    const notAvailable = { ...SONNET_CACHED_TURN, inferenceGeo: 'not_available' };
    const usWorkspace = new PriceTable({}, { workspaceInferenceGeo: 'us' });

    expect(prices.costNanoUsd('claude-sonnet-4-6', notAvailable)).toBe(
      prices.costNanoUsd('claude-sonnet-4-6', SONNET_CACHED_TURN),
    );
    expect(nanoToUsd(usWorkspace.costNanoUsd('claude-sonnet-4-6', notAvailable))).toBe(0.022935);
  });

  it('prices Opus and Haiku from their own rows', () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 1_000_000,
      cacheReadInputTokens: 1_000_000,
      cacheCreationInputTokens: 1_000_000,
    };
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-4-5', usage))).toBe(5 + 25 + 0.5 + 6.25);
    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-4-5', usage))).toBe(1 + 5 + 0.1 + 1.25);
  });

  it('prices a dated model id like its alias', () => {
    expect(prices.costNanoUsd('claude-sonnet-4-5-20250929', SONNET_CACHED_TURN)).toBe(
      prices.costNanoUsd('claude-sonnet-4-5', SONNET_CACHED_TURN),
    );
  });

  it('is exact where floating point is not: a million one-token calls cost a million times one', () => {
    const one = prices.costNanoUsd('claude-sonnet-4-5', {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 1,
      cacheCreationInputTokens: 0,
    });
    let total = 0;
    for (let i = 0; i < 1_000_000; i++) total += one;
    expect(total).toBe(300_000_000);
  });

  it('takes overrides from the modelPrices setting and adds new models', () => {
    const custom = new PriceTable({
      'my-model': { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 },
    });
    expect(custom.has('my-model')).toBe(true);
    expect(custom.has('claude-sonnet-4-5')).toBe(true);
    expect(nanoToUsd(custom.costNanoUsd('my-model', { ...SONNET_CACHED_TURN }))).toBe(
      (1200 * 2 + 350 * 10 + 15000 * 0.2 + 2000 * 2.5) / 1e6,
    );
  });

  it('lets an override replace a built-in price, model by model', () => {
    const custom = new PriceTable({
      'claude-sonnet-4-5': { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 },
    });
    expect(custom.priceOf('claude-sonnet-4-5').output).toBe(1);
    expect(custom.priceOf('claude-haiku-4-5')).toEqual(prices.priceOf('claude-haiku-4-5'));
  });

  it('refuses to price an unknown model rather than charging zero', () => {
    expect(() => prices.costNanoUsd('gpt-4', SONNET_CACHED_TURN)).toThrow(/no price/);
  });

  it('bounds a regional call by 1.1 times the worst case', () => {
    // Exactly: 7,500,000 x 1.1 is 8,250,000.000000001 in floating point.
    expect(prices.worstCaseNanoUsd('claude-sonnet-4-6', 1000, 100, 'us')).toBe(8_250_000);
    expect(prices.worstCaseNanoUsd('claude-sonnet-4-6', 1000, 100, 'global')).toBe(
      1000 * 6000 + 100 * 15000,
    );
  });

  it('bounds the worst case by the dearest input price and every output token', () => {
    // 1000 prompt tokens at the 1h cache-write price ($6) + 100 output at $15
    expect(prices.worstCaseNanoUsd('claude-sonnet-4-5', 1000, 100)).toBe(1000 * 6000 + 100 * 15000);
    expect(prices.worstCaseNanoUsd('claude-sonnet-4-5', 1000, 100)).toBeGreaterThanOrEqual(
      prices.costNanoUsd('claude-sonnet-4-5', {
        inputTokens: 0,
        outputTokens: 100,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 1000,
        cacheCreation1hInputTokens: 1000,
      }),
    );
  });
});

describe('modelPricesSchema', () => {
  const price = { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 };

  it('accepts prices in whole $0.001 per million tokens, zero included', () => {
    expect(
      modelPricesSchema().safeParse({ m: { ...price, input: 0.001, cacheRead: 0 } }).success,
    ).toBe(true);
  });

  it('rejects prices finer than $0.001 per million tokens and unknown fields', () => {
    expect(modelPricesSchema().safeParse({ m: { ...price, input: 0.0001 } }).success).toBe(false);
    expect(modelPricesSchema().safeParse({ m: { ...price, x: 1 } }).success).toBe(false);
  });

  it('rejects a negative price, a missing kind of token and an empty model name', () => {
    expect(modelPricesSchema().safeParse({ m: { ...price, output: -1 } }).success).toBe(false);
    const { cacheWrite1h: _, ...partial } = price;
    expect(modelPricesSchema().safeParse({ m: partial }).success).toBe(false);
    expect(modelPricesSchema().safeParse({ '': price }).success).toBe(false);
  });

  it('accepts long-prompt prices above a whole number of prompt tokens, every kind of token priced', () => {
    const longPrompt = { overTokens: 100_000, ...price, input: 5 };
    expect(modelPricesSchema().safeParse({ m: { ...price, longPrompt } }).success).toBe(true);
    expect(
      modelPricesSchema().safeParse({
        m: { ...price, longPrompt: { ...longPrompt, overTokens: 0.5 } },
      }).success,
    ).toBe(false);
    const { cacheRead: _, ...partial } = longPrompt;
    expect(modelPricesSchema().safeParse({ m: { ...price, longPrompt: partial } }).success).toBe(
      false,
    );
  });

  it('prices an override by prompt length as the built-in Haiku 5.5 is', () => {
    const table = new PriceTable({
      m: { ...price, longPrompt: { overTokens: 10, ...price, input: 2, output: 2 } },
    });
    const usage = {
      inputTokens: 6,
      outputTokens: 1,
      cacheReadInputTokens: 4,
      cacheCreationInputTokens: 0,
    };
    expect(table.costNanoUsd('m', usage)).toBe(11_000);
    expect(table.costNanoUsd('m', { ...usage, cacheCreationInputTokens: 1 })).toBe(19_000);
  });
});
