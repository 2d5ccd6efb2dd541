import { describe, expect, it } from 'vitest';
import { mergeWireUsage, usageFromWire } from '../../../../shared/gateway/wire-usage.js';

describe('usage from the wire', () => {
  it('keeps where inference ran, reported in message_start, through deltas that do not repeat it', () => {
    const started = usageFromWire({ input_tokens: 12, output_tokens: 1, inference_geo: 'us' });

    const ended = mergeWireUsage(started, { output_tokens: 40 });

    expect(ended).toEqual({
      inputTokens: 12,
      outputTokens: 40,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      cacheCreation1hInputTokens: 0,
      inferenceGeo: 'us',
    });
  });

  it('leaves the geography out when the API reports none', () => {
    expect(usageFromWire({ input_tokens: 1, inference_geo: null })).not.toHaveProperty(
      'inferenceGeo',
    );
  });
});
