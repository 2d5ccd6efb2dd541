import { describe, expect, it } from 'vitest';
import { maxChars } from '../../../../shared/validation/max-chars.js';
import * as z from '../../../../shared/validation/zod.js';

describe('maxChars', () => {
  const upTo3 = z.string().check(...maxChars(3));

  it('counts UTF-16 code units, as `length` does, not code points', () => {
    expect(upTo3.safeParse('abc').success).toBe(true);
    expect(upTo3.safeParse('a😀').success).toBe(true);
    expect(upTo3.safeParse('😀😀').success).toBe(false);
  });

  it('tells an overlong text once, as too big', () => {
    for (const text of ['abcd', '😀😀', '😀😀😀😀']) {
      const issues = upTo3.safeParse(text).error?.issues ?? [];
      expect(issues).toEqual([
        expect.objectContaining({
          code: 'too_big',
          maximum: 3,
          message: expect.stringMatching(/<=3/),
        }),
      ]);
    }
  });

  it('tells the message given, whichever way the text is too long', () => {
    const named = z.string().check(...maxChars(3, 'name must be at most 3 characters'));

    for (const text of ['abcd', '😀😀']) {
      expect(named.safeParse(text).error?.issues.map((issue) => issue.message)).toEqual([
        'name must be at most 3 characters',
      ]);
    }
  });

  it('states the bound in the JSON Schema', () => {
    expect(z.toJSONSchema(upTo3)).toMatchObject({ type: 'string', maxLength: 3 });
  });
});
