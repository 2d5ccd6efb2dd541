import * as z from '../../../shared/validation/zod.js';

/**
 * JSON nested deeper than this is refused. The walks a body goes through (validation,
 * canonical JSON for the response cache, the prompt's measure, the SDK's serializer) are
 * recursive: a few kilobytes of brackets would exhaust the stack. Anthropic's content and
 * tool schemas nest a few levels; 128 leaves room for any tool input.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether `value` nests objects or arrays more than `maxDepth` levels (walked without recursion). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/** `schema`, after a check that the body is not nested too deep for it to walk. */
export function withinJsonDepth<T>(schema: z.ZodMiniType<T, unknown>): z.ZodMiniType<T, unknown> {
  return z.pipe(
    z.unknown().check(
      z.refine((value) => !nestsDeeperThan(value, MAX_JSON_DEPTH), {
        message: `JSON nested more than ${MAX_JSON_DEPTH} levels deep`,
      }),
    ),
    schema,
  );
}
