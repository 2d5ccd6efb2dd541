import { describe, expect, it } from 'vitest';
import { ThinkingTime } from '../../../../shared/domain/thinking-time.js';

describe('ThinkingTime', () => {
  it('adds up each stretch from a thinking event to the next event of another kind', () => {
    let nowMs = 0;
    const time = new ThinkingTime(() => nowMs);

    time.observe({ type: 'text' });
    nowMs = 100;
    time.observe({ type: 'thinking' });
    nowMs = 400;
    time.observe({ type: 'thinking' });
    nowMs = 1_000;
    time.observe({ type: 'text' });
    nowMs = 5_000;
    time.observe({ type: 'thinking' });
    nowMs = 5_250;

    // 900 ms thought, and 250 of a thought under way.
    expect(time.ms).toBe(1_150);
  });

  it('is 0 for a stream that never thought', () => {
    const time = new ThinkingTime(() => 42);
    time.observe({ type: 'text' });
    time.observe({ type: 'usage' });
    expect(time.ms).toBe(0);
  });
});
