/**
 * JSON nested deeper than this is refused. The walks a body goes through (validation,
 * canonical JSON for the response cache, the prompt's measure, the SDK's serializer) are
 * recursive: a few kilobytes of brackets would exhaust the stack. Anthropic's content and
 * tool schemas nest a few levels; 128 leaves room for any tool input.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether `value` nests objects or arrays more than `maxDepth` levels (walked without
 * recursion). Only objects and arrays are kept to visit, with their depth alongside, not in
 * a pair each: a body of millions of numbers would otherwise hold a pair per number, hundreds
 * of MB and seconds of CPU, before any validation refuses it.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (!isContainer(value)) return false;
  const pending: object[] = [value];
  const depths: number[] = [1];
  for (let node = pending.pop(); node; node = pending.pop()) {
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    const visit = (child: unknown) => {
      if (!isContainer(child)) return;
      pending.push(child);
      depths.push(depth + 1);
    };
    if (Array.isArray(node)) node.forEach(visit);
    // A parsed body's objects are plain: no inherited enumerable keys.
    else for (const key in node) visit((node as Record<string, unknown>)[key]);
  }
  return false;
}

const isContainer = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/** What Event Handler's validation reads of a schema: the Standard Schema interface. */
interface StandardSchema {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    validate(value: unknown): unknown;
  };
}

/**
 * `schema`, behind a check that the body is not nested too deep for it to walk. A Standard
 * Schema of its own, not a zod pipe: zod builds a pipe's machinery when it is made, and
 * every body route would pay that at the function's cold start (~20 ms).
 */
export function withinJsonDepth(schema: StandardSchema): StandardSchema {
  return {
    '~standard': {
      version: 1,
      vendor: 'json-depth',
      validate: (value) =>
        nestsDeeperThan(value, MAX_JSON_DEPTH)
          ? { issues: [{ message: `JSON nested more than ${MAX_JSON_DEPTH} levels deep` }] }
          : schema['~standard'].validate(value),
    },
  };
}
