/** `JSON.rawJSON` and the reviver's source text (Node 21+; not yet in TypeScript's lib). */
const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;
type SourceReviver = (key: string, value: unknown, context: { source?: string }) => unknown;

/** Thrown to leave a parse that has read more values than it may. */
const TOO_MANY = Symbol('too many values');

/**
 * `JSON.parse`, keeping as written each number that parsing would change: an integer beyond
 * 2^53 (a 64-bit id in a tool's input), `1e400`, `1.0`, `-0`. Such a number is its text
 * (`JSON.rawJSON`), which `JSON.stringify` writes back as it came. `changed` says whether any
 * was; on a runtime without `JSON.rawJSON` (Node 20) none is kept, and it says false.
 *
 * @param options.maxValues reading stops past this many values (objects, arrays, strings,
 *   numbers…): the reviver costs ~1 µs a value, so a body of millions of numbers would cost
 *   seconds of CPU
 * @returns undefined when the text has more values than `maxValues`
 * @throws SyntaxError as `JSON.parse`
 */
export function parseJsonExactly(
  text: string,
  { maxValues = Number.POSITIVE_INFINITY } = {},
): { value: unknown; changed: boolean } | undefined {
  if (!rawJson) return { value: JSON.parse(text), changed: false };
  let changed = false;
  let values = 0;
  const keepExact: SourceReviver = (_key, value, { source }) => {
    if (++values > maxValues) throw TOO_MANY;
    if (typeof value !== 'number' || source === undefined || String(value) === source) {
      return value;
    }
    changed = true;
    return rawJson(source);
  };
  try {
    const value = JSON.parse(text, keepExact as Parameters<typeof JSON.parse>[1]);
    return { value, changed };
  } catch (error) {
    if (error === TOO_MANY) return undefined;
    throw error;
  }
}

/** Whether `value` is a number kept as written by `parseJsonExactly`. */
export const isExactNumber = (value: unknown): boolean =>
  (JSON as { isRawJSON?: (value: unknown) => boolean }).isRawJSON?.(value) === true;
