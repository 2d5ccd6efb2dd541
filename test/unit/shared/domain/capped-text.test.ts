import { describe, expect, it } from 'vitest';
import { CappedText } from '../../../../shared/domain/capped-text.js';
import { utf8Bytes } from '../../../../shared/domain/tokens.js';

describe('CappedText', () => {
  it('keeps every piece while the text stays within the cap, the cap itself included', () => {
    const text = new CappedText(6);

    expect([text.append('ab'), text.append('cd'), text.append('ef')]).toEqual(['ab', 'cd', 'ef']);
    expect(text.text).toBe('abcdef');
    expect(text.full).toBe(false);
  });

  it('cuts the piece that passes the cap between characters, and keeps nothing after it', () => {
    const text = new CappedText(7);
    text.append('ab');

    // 漢 is 3 bytes: 2 + 3 fits, a second would make 8.
    expect(text.append('漢漢')).toBe('漢');
    expect(text.full).toBe(true);
    // The text is complete: a piece that would fit the 2 bytes left is not kept either.
    expect(text.append('c')).toBe('');
    expect(text.text).toBe('ab漢');
  });

  it('never cuts inside an emoji sequence, whatever the cap', () => {
    const family = '👨‍👩‍👧';
    for (let max = 0; max <= 2 * utf8Bytes(family); max++) {
      const text = new CappedText(max);
      text.append(family);
      text.append(family);
      expect(utf8Bytes(text.text)).toBeLessThanOrEqual(max);
      expect(text.text.replaceAll(family, '')).toBe('');
    }
  });
});
