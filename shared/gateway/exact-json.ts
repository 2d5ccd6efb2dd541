/** `JSON.rawJSON` and the reviver's source text (Node 21+; not yet in TypeScript's lib). */
const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;
type SourceReviver = (key: string, value: unknown, context: { source?: string }) => unknown;

/**
 * `JSON.parse`, keeping as written each number that parsing would change: an integer beyond
 * 2^53 (a 64-bit id in a tool's input), `1e400`, `1.0`, `-0`. Such a number is its text
 * (`JSON.rawJSON`), which `JSON.stringify` writes back as it came. `changed` says whether any
 * was; on a runtime without `JSON.rawJSON` (Node 20) none is kept, and it says false.
 *
 * @throws SyntaxError as `JSON.parse`
 */
export function parseJsonExactly(text: string): { value: unknown; changed: boolean } {
  if (!rawJson) return { value: JSON.parse(text), changed: false };
  let changed = false;
  const keepExact: SourceReviver = (_key, value, { source }) => {
    if (typeof value !== 'number' || source === undefined || String(value) === source) {
      return value;
    }
    changed = true;
    return rawJson(source);
  };
  const value = JSON.parse(text, keepExact as Parameters<typeof JSON.parse>[1]);
  return { value, changed };
}

/** Whether `value` is a number kept as written by `parseJsonExactly`. */
export const isExactNumber = (value: unknown): boolean =>
  (JSON as { isRawJSON?: (value: unknown) => boolean }).isRawJSON?.(value) === true;
