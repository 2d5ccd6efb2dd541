/**
 * JSON nested deeper than this is refused. The walks a body goes through (validation,
 * canonical JSON for the response cache, the prompt's measure, the SDK's serializer) are
 * recursive: a few kilobytes of brackets would exhaust the stack. Anthropic's content and
 * tool schemas nest a few levels; 128 leaves room for any tool input.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * An object with more members than this is refused. Validation and the prompt's measure
 * copy an object's members; copied by the hundred thousand (a 5 MB body of `"k1":0,…`),
 * they took ~2 s of CPU for one request, before any 400. Content blocks and tool schemas
 * have a few members; a tool input or schema needs far fewer than 10,000.
 */
export const MAX_JSON_OBJECT_MEMBERS = 10_000;

/**
 * Whether `value` nests objects or arrays more than `maxDepth` levels (walked without
 * recursion). Only objects and arrays are kept to visit, with their depth alongside, not in
 * a pair each: a body of millions of numbers would otherwise hold a pair per number, hundreds
 * of MB and seconds of CPU, before any validation refuses it.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  return jsonShapeIssue(value, { maxDepth, maxMembers: Number.POSITIVE_INFINITY }) === 'depth';
}

/** What of `value` is beyond the limits, its depth or an object's members; undefined when nothing is. */
export function jsonShapeIssue(
  value: unknown,
  limits: { maxDepth: number; maxMembers: number },
): 'depth' | 'members' | undefined {
  if (!isContainer(value)) return undefined;
  const pending: object[] = [value];
  const depths: number[] = [1];
  for (let node = pending.pop(); node; node = pending.pop()) {
    const depth = depths.pop()!;
    if (depth > limits.maxDepth) return 'depth';
    const visit = (child: unknown) => {
      if (!isContainer(child)) return;
      pending.push(child);
      depths.push(depth + 1);
    };
    if (Array.isArray(node)) {
      node.forEach(visit);
      continue;
    }
    let members = 0;
    // A parsed body's objects are plain: no inherited enumerable keys.
    for (const key in node) {
      if (++members > limits.maxMembers) return 'members';
      visit((node as Record<string, unknown>)[key]);
    }
  }
  return undefined;
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

const SHAPE_ISSUES = {
  depth: `JSON nested more than ${MAX_JSON_DEPTH} levels deep`,
  members: `a JSON object with more than ${MAX_JSON_OBJECT_MEMBERS} members`,
};

/**
 * `schema`, behind a check that the body is not nested too deep for it to walk, nor has an
 * object too wide to copy. A Standard Schema of its own, not a zod pipe: zod builds a pipe's
 * machinery when it is made, and every body route would pay that at the function's cold
 * start (~20 ms).
 */
export function withinJsonDepth(schema: StandardSchema): StandardSchema {
  return {
    '~standard': {
      version: 1,
      vendor: 'json-depth',
      validate: (value) => {
        const issue = jsonShapeIssue(value, {
          maxDepth: MAX_JSON_DEPTH,
          maxMembers: MAX_JSON_OBJECT_MEMBERS,
        });
        return issue
          ? { issues: [{ message: SHAPE_ISSUES[issue] }] }
          : schema['~standard'].validate(value);
      },
    },
  };
}
