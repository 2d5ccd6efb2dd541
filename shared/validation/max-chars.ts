import * as z from './zod.js';

/**
 * The checks of a text of at most `max` characters, counted as the API counts text everywhere:
 * in UTF-16 code units, as JavaScript's `length`, a browser's `maxlength`, an answer's offsets
 * and the stored items' size margins count them. zod's length check counts code points, which
 * lets a text of emoji through at twice the length; it stays first, so that the API document
 * states the bound, and ends the checks when it fails, so that an overlong text is told once.
 */
export function maxChars(max: number, message?: string) {
  return [
    z.maxLength(max, { abort: true, ...(message && { error: message }) }),
    z.check<string>((ctx) => {
      if (ctx.value.length <= max) return;
      ctx.issues.push({
        code: 'too_big',
        origin: 'string',
        maximum: max,
        inclusive: true,
        input: ctx.value,
        ...(message && { message }),
      });
    }),
  ] as const;
}
