import { describe, expect, it } from 'vitest';
import { nanoToUsd } from '../../../../../shared/domain/pricing/model-price.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';
import { mergeWireUsage, usageFromWire } from '../../../../../shared/gateway/wire-usage.js';

/**
 * Realistic calls priced against the figures Anthropic publishes, not against our own table:
 * https://platform.claude.com/docs/en/about-claude/pricing (fetched September 2026),
 * https://platform.claude.com/docs/en/manage-claude/data-residency, and each model's page
 * (https://platform.claude.com/docs/en/models/<model>/overview, its "Pricing" list).
 */
describe('PriceTable against the published pricing page', () => {
  const prices = new PriceTable();

  it("prices the page's Opus worked example: 50,000 input and 15,000 output tokens, then 40,000 of them read from cache", () => {
    const plain = { inputTokens: 50_000, outputTokens: 15_000 };
    const cached = { inputTokens: 10_000, outputTokens: 15_000, cacheReadInputTokens: 40_000 };

    // $0.25 + $0.375 tokens (the page adds $0.08 of Managed Agents runtime we do not sell)
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-4-8', usage(plain)))).toBe(0.625);
    // $0.05 + $0.02 + $0.375
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-4-8', usage(cached)))).toBe(0.445);
  });

  it("prices the web search tool's usage example at its tokens plus $10 per 1,000 searches", () => {
    const wire = {
      input_tokens: 105,
      output_tokens: 6039,
      cache_read_input_tokens: 7123,
      cache_creation_input_tokens: 7345,
      server_tool_use: { web_search_requests: 1 },
    };

    // 105 x $3 + 6,039 x $15 + 7,123 x $0.30 + 7,345 x $3.75 per million, and one search at $0.01
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', usageFromWire(wire)))).toBe(
      0.13058065,
    );
  });

  it('charges nothing for a web fetch beyond its tokens', () => {
    const wire = {
      input_tokens: 25_039,
      output_tokens: 931,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      server_tool_use: { web_fetch_requests: 1 },
    };

    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', usageFromWire(wire)))).toBe(0.089082);
  });

  it('prices a streamed answer from message_start and the cumulative message_delta as the whole message', () => {
    const start = usageFromWire({
      input_tokens: 105,
      output_tokens: 1,
      cache_read_input_tokens: 7123,
      cache_creation_input_tokens: 7345,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 7345 },
    });
    const streamed = [
      { output_tokens: 2000 },
      { output_tokens: 6039, server_tool_use: { web_search_requests: 1 } },
    ].reduce(mergeWireUsage, start);

    // 1-hour writes at $6: 105 x $3 + 6,039 x $15 + 7,123 x $0.30 + 7,345 x $6, and $0.01
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', streamed))).toBe(0.1471069);
  });

  it('prices 5-minute and 1-hour cache writes at 1.25 and 2 times the input price', () => {
    const written = { cacheCreationInputTokens: 100_000 };

    expect(nanoToUsd(prices.costNanoUsd('claude-opus-4-7', usage(written)))).toBe(0.625);
    expect(
      nanoToUsd(
        prices.costNanoUsd(
          'claude-opus-4-7',
          usage({ ...written, cacheCreation1hInputTokens: 100_000 }),
        ),
      ),
    ).toBe(1);
  });

  it('bills a 900,000-token Sonnet 4.6 prompt at the same per-token rate as a 9,000-token one (no long-context premium on 4.6 and later)', () => {
    const long = usage({ inputTokens: 900_000, outputTokens: 2_000 });
    const short = usage({ inputTokens: 9_000, outputTokens: 20 });

    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-4-6', long))).toBe(2.73);
    expect(prices.costNanoUsd('claude-sonnet-4-6', long)).toBe(
      100 * prices.costNanoUsd('claude-sonnet-4-6', short),
    );
    expect(prices.worstCaseNanoUsd('claude-opus-4-6', 900_000, 2_000)).toBe(
      900_000 * 10_000 + 2_000 * 25_000,
    );
  });

  it('prices a Haiku 4.5 batch at $0.50 / $2.50 per million tokens', () => {
    const million = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });

    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-4-5-20251001', million, 'batch'))).toBe(3);
  });

  it("prices the data residency page's US-only Opus 4.6 answer at 1.1 times", () => {
    const wire = { input_tokens: 25, output_tokens: 150, inference_geo: 'us' };

    // (25 x $5 + 150 x $25 per million) x 1.1
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-4-6', usageFromWire(wire)))).toBe(0.0042625);
  });

  it("prices Claude Code's default model, Opus 5.5, at $4 / $20 with cache reads at $0.20 (0.05 times input)", () => {
    const plain = usage({ inputTokens: 50_000, outputTokens: 15_000 });
    const cached = usage({
      inputTokens: 10_000,
      outputTokens: 15_000,
      cacheReadInputTokens: 40_000,
    });
    const written = usage({ cacheCreationInputTokens: 100_000 });

    // 50,000 x $4 + 15,000 x $20 per million
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5-5', plain))).toBe(0.5);
    // 10,000 x $4 + 40,000 x $0.20 + 15,000 x $20
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5-5', cached))).toBe(0.348);
    // 5-minute writes at $5, 1-hour ones at $8
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5-5', written))).toBe(0.5);
    expect(
      nanoToUsd(
        prices.costNanoUsd('claude-opus-5-5', { ...written, cacheCreation1hInputTokens: 100_000 }),
      ),
    ).toBe(0.8);
  });

  it('prices Opus 5 at $5 / $25 and Sonnet 5 at $2 / $10, half that in a batch', () => {
    const million = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    const read = usage({ cacheReadInputTokens: 1_000_000 });

    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5', million))).toBe(30);
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5', read))).toBe(0.5);
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5', million))).toBe(12);
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5', million, 'batch'))).toBe(6);
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5', read))).toBe(0.2);
  });

  it('prices Sonnet 5.5 as Sonnet 5 but for cache reads at $0.10 (0.05 times input, since 2026-10-07)', () => {
    const million = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    const written = usage({ cacheCreationInputTokens: 1_000_000 });

    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5-5', million))).toBe(12);
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5-5', million, 'batch'))).toBe(6);
    expect(
      nanoToUsd(
        prices.costNanoUsd('claude-sonnet-5-5', usage({ cacheReadInputTokens: 1_000_000 })),
      ),
    ).toBe(0.1);
    expect(nanoToUsd(prices.costNanoUsd('claude-sonnet-5-5', written))).toBe(2.5);
    expect(
      nanoToUsd(
        prices.costNanoUsd('claude-sonnet-5-5', {
          ...written,
          cacheCreation1hInputTokens: 1_000_000,
        }),
      ),
    ).toBe(4);
  });

  it('prices Fable 5.1 cache reads at $0.25, a quarter of Fable 5 at the same $10 / $50', () => {
    const million = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    const read = usage({ cacheReadInputTokens: 1_000_000 });

    expect(nanoToUsd(prices.costNanoUsd('claude-fable-5-1', million))).toBe(60);
    expect(nanoToUsd(prices.costNanoUsd('claude-fable-5', million))).toBe(60);
    expect(nanoToUsd(prices.costNanoUsd('claude-fable-5-1', read))).toBe(0.25);
    expect(nanoToUsd(prices.costNanoUsd('claude-fable-5', read))).toBe(1);
    // every prompt token held at the dearest input price, the 1-hour write's $20
    expect(prices.worstCaseNanoUsd('claude-fable-5-1', 10_000, 1_000)).toBe(
      10_000 * 20_000 + 1_000 * 50_000,
    );
  });

  it('prices a Haiku 5.5 prompt of up to 100,000 tokens at $0.10 / $0.50, cache reads at $0.01', () => {
    // 60,000 x $0.10 + 40,000 x $0.01 + 2,000 x $0.50 per million: 100,000 prompt tokens
    const atTheLine = usage({
      inputTokens: 60_000,
      cacheReadInputTokens: 40_000,
      outputTokens: 2_000,
    });

    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-5-5', atTheLine))).toBe(0.0074);
  });

  it('prices every token of a Haiku 5.5 call over 100,000 prompt tokens, output too, at the long-prompt prices', () => {
    // One token more, counting cache reads and writes: 60,000 x $0.50 + 40,000 x $0.05 +
    // 1 x $0.625 + 2,000 x $2.50 per million
    const over = usage({
      inputTokens: 60_000,
      cacheReadInputTokens: 40_000,
      cacheCreationInputTokens: 1,
      outputTokens: 2_000,
    });
    const hour = usage({
      inputTokens: 100_000,
      cacheCreationInputTokens: 100_000,
      cacheCreation1hInputTokens: 100_000,
    });

    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-5-5', over))).toBe(0.037000625);
    // 100,000 x $0.50 + 100,000 x $1 (1-hour writes)
    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-5-5', hour))).toBe(0.15);
    // half that in a batch, 1.1 times that held to the US
    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-5-5', hour, 'batch'))).toBe(0.075);
    expect(nanoToUsd(prices.costNanoUsd('claude-haiku-5-5', { ...hour, inferenceGeo: 'us' }))).toBe(
      0.165,
    );
  });

  it("holds a Haiku 5.5 call's worst case at the prices its largest possible prompt pays", () => {
    // a prompt bound within the line: every prompt token at the 1-hour write's $0.20
    expect(nanoToUsd(prices.worstCaseNanoUsd('claude-haiku-5-5', 100_000, 10_000))).toBe(0.025);
    // over it: $1 a prompt token, $2.50 an output token
    expect(nanoToUsd(prices.worstCaseNanoUsd('claude-haiku-5-5', 100_001, 10_000))).toBe(0.125001);
  });

  it('prices a US-only Opus 5.5 answer at 1.1 times: the 5 models take inference_geo', () => {
    const wire = { input_tokens: 25, output_tokens: 150, inference_geo: 'us' };

    // (25 x $4 + 150 x $20 per million) x 1.1
    expect(nanoToUsd(prices.costNanoUsd('claude-opus-5-5', usageFromWire(wire)))).toBe(0.00341);
  });
});

function usage(counts: {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  cacheCreation1hInputTokens?: number;
}) {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    ...counts,
  };
}
