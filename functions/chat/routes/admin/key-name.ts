import { maxChars } from '../../../../shared/validation/max-chars.js';
import * as z from '../../../../shared/validation/zod.js';

/**
 * What a key's name may not hold: control characters (C0, DEL, C1: a terminal reading
 * `list-keys` would act on an escape), line and paragraph separators, and the bidi
 * embeddings, overrides and isolates that make text show in another order than it is
 * stored (CVE-2021-42574). Bidi marks (U+200E, U+200F) stay: mixed-script names need them.
 */
const UNSHOWABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
/** A name that shows as nothing: spaces alone (the no-break and ideographic spaces too). */
const BLANK = /^\s*$/u;

/** A key's name: a label for people, shown as stored. */
export const keyNameSchema = () =>
  z.string().check(
    z.minLength(1),
    ...maxChars(200),
    z.describe(
      'A label for people, on one line, not spaces alone: no control characters, line or paragraph separators, or bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).',
    ),
    z.refine((name) => !BLANK.test(name), {
      error: 'a name of spaces alone shows as none: leave it out, or give a label',
    }),
    z.refine((name) => !UNSHOWABLE.test(name), {
      error: (issue) => {
        const name = String(issue.input);
        const at = name.search(UNSHOWABLE);
        const position = [...name.slice(0, at)].length + 1;
        const codePoint = name.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0');
        return `U+${codePoint} (character ${position}) is a control character, line separator or bidi override: a name is plain text on one line`;
      },
    }),
  );
