import { describe, expect, it } from 'vitest';
import { addUsage, ZERO_USAGE } from '../../../../shared/domain/usage.js';

describe('addUsage', () => {
  it('adds every count', () => {
    const call = { ...ZERO_USAGE, inputTokens: 3, outputTokens: 4, webSearchRequests: 1 };

    expect(addUsage(call, call)).toMatchObject({
      inputTokens: 6,
      outputTokens: 8,
      webSearchRequests: 2,
    });
  });

  it('makes a sum with one regional call regional: the sum is priced as one', () => {
    const global = { ...ZERO_USAGE, inferenceGeo: 'global' };
    const regional = { ...ZERO_USAGE, inferenceGeo: 'us' };

    expect(addUsage(global, regional).inferenceGeo).toBe('us');
    expect(addUsage(regional, global).inferenceGeo).toBe('us');
    expect(addUsage(ZERO_USAGE, global).inferenceGeo).toBe('global');
    expect(addUsage(ZERO_USAGE, ZERO_USAGE)).not.toHaveProperty('inferenceGeo');
  });
});
