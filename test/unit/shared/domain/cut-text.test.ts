import { describe, expect, it } from 'vitest';
import { cutText } from '../../../../shared/domain/cut-text.js';

describe('cutText', () => {
  it('keeps a text within the bound as it is', () => {
    expect(cutText('abc', 3)).toBe('abc');
  });

  it('marks a cut with an ellipsis', () => {
    expect(cutText('abcdef', 3)).toBe('abc…');
  });

  it('never cuts a surrogate pair in two', () => {
    expect(cutText('ab😀cd', 3)).toBe('ab…');
  });

  it('never cuts an emoji sequence apart', () => {
    const family = '👩‍👩‍👧';
    expect(cutText(`a${family}b`, 5)).toBe('a…');
    expect(cutText(`a${family}b`, 1 + family.length)).toBe(`a${family}…`);
  });
});
