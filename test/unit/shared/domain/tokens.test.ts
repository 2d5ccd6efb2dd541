import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  estimateOutputTokens,
  estimateTokens,
  truncateText,
  truncateUtf8,
  utf8Bytes,
} from '../../../../shared/domain/tokens.js';

describe('truncateText', () => {
  it('keeps text that fits', () => {
    expect(truncateText('hello', 5)).toBe('hello');
  });

  it('never cuts a surrogate pair or an emoji sequence', () => {
    expect(truncateText('ab😀', 3)).toBe('ab');
    expect(truncateText('a👩‍👩‍👧b', 5)).toBe('a');
    expect(truncateText('é̀x', 1)).toBe('');
  });

  it('returns a well-formed prefix no longer than asked, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(40), (text, max) => {
        const cut = truncateText(text, max);
        expect(cut.length).toBeLessThanOrEqual(Math.max(max, 0));
        expect(text.startsWith(cut)).toBe(true);
        expect(cut.isWellFormed()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('truncateUtf8', () => {
  it('counts bytes, not code units, and never cuts a character', () => {
    expect(truncateUtf8('漢字', 5)).toBe('漢');
    expect(truncateUtf8('ab😀', 5)).toBe('ab');
    expect(truncateUtf8('ab😀', 6)).toBe('ab😀');
  });

  it('returns a well-formed prefix of at most the bytes asked, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(60), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(utf8Bytes(cut)).toBeLessThanOrEqual(max);
        expect(text.startsWith(cut)).toBe(true);
        expect(cut.isWellFormed()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('estimateOutputTokens', () => {
  it('errs high: a token per 3 bytes of ASCII and per 2 bytes of other text', () => {
    expect(estimateOutputTokens('a'.repeat(300))).toBe(100);
    // CJK is about one token per character (3 bytes): counted as 1.5.
    expect(estimateOutputTokens('漢'.repeat(100))).toBe(150);
    expect(estimateOutputTokens('')).toBe(0);
  });

  it('never counts less than the typical-case estimate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(estimateOutputTokens(text)).toBeGreaterThanOrEqual(estimateTokens(text));
      }),
      { numRuns: 1000 },
    );
  });
});
