import { describe, expect, it } from 'vitest';
import { stopReasonOf } from '../../../../../shared/adapters/anthropic/stop-reason.js';

describe('stopReasonOf', () => {
  it.each([
    'end_turn',
    'max_tokens',
    'stop_sequence',
    'refusal',
    'pause_turn',
    'model_context_window_exceeded',
  ])('keeps %s', (reason) => {
    expect(stopReasonOf(reason)).toBe(reason);
  });

  it.each([
    ['a reason this version does not know', 'a_future_reason'],
    ['tool_use, no tool being offered', 'tool_use'],
    ['none', null],
    ['one of ours, which the API never sends', 'stopped'],
  ])('takes %s for end_turn', (_, wire) => {
    expect(stopReasonOf(wire)).toBe('end_turn');
  });
});
