import { describe, expect, it } from 'vitest';
import { givenBack } from '../../../../shared/turns/given-back.js';

describe('givenBack', () => {
  const regenerate = { regenerated: { supersededBefore: [[2, 2]] as const } };

  it.each(['error', 'stopped', 'timeout', 'interrupted'] as const)(
    'gives back what a regenerate was to replace when its answer showed nothing and ended %s',
    (stopReason) => {
      expect(givenBack(regenerate, { seq: 6, text: '', stopReason })).toEqual([
        [2, 2],
        [6, 6],
      ]);
    },
  );

  it('leaves what the turn began with when the answer showed anything, ended of itself, or was no regenerate', () => {
    expect(givenBack(regenerate, { seq: 6, text: 'A', stopReason: 'error' })).toBeUndefined();
    expect(givenBack(regenerate, { seq: 6, text: '', stopReason: 'end_turn' })).toBeUndefined();
    expect(givenBack(regenerate, { seq: 6, text: '', stopReason: 'refusal' })).toBeUndefined();
    expect(givenBack({}, { seq: 6, text: '', stopReason: 'error' })).toBeUndefined();
  });
});
