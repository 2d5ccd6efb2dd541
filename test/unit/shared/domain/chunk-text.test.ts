import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../../shared/domain/chunk-text.js';
import { estimateTokens } from '../../../../shared/domain/tokens.js';

describe('chunkText', () => {
  it('keeps a text that fits in one part', () => {
    expect(chunkText('short text', 100)).toEqual(['short text']);
  });

  it('cuts at paragraph boundaries and keeps every part within the limit', () => {
    const paragraphs = Array.from({ length: 20 }, (_, i) => `Paragraph ${i} `.repeat(10).trim());
    const text = paragraphs.join('\n\n');
    const parts = chunkText(text, 60);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(estimateTokens(part)).toBeLessThanOrEqual(60);
    expect(parts.join('\n\n')).toBe(text);
  });

  it('cuts an unbroken run of characters by size', () => {
    const parts = chunkText('x'.repeat(1000), 50);
    expect(parts.every((part) => estimateTokens(part) <= 50)).toBe(true);
    expect(parts.join('')).toBe('x'.repeat(1000));
  });
});

describe('chunkText on one unbroken run of characters', () => {
  it('cuts by size between code points, each part within the token budget', () => {
    const text = '😀'.repeat(1000);
    const parts = chunkText(text, 100);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(part.isWellFormed()).toBe(true);
      expect(estimateTokens(part)).toBeLessThanOrEqual(100);
    }
  });
});
