import { parseJsonExactly } from '../../../shared/gateway/exact-json.js';

/**
 * The request's JSON body with its numbers exactly as written, when parsing it changes one
 * (see `parseJsonExactly`): sent upstream in place of the parsed body, the Anthropic API gets
 * what the caller sent, and the model its own earlier tool calls unaltered. Undefined when
 * parsing changes no number (the parsed body is then exact), or the body has too many values.
 *
 * The body is read again here: Event Handler validated a copy of it.
 */
export async function bodyWithExactNumbers(
  request: Request,
): Promise<Record<string, unknown> | undefined> {
  if (request.bodyUsed) return undefined;
  const exact = parseJsonExactly(await request.text(), { maxValues: MAX_EXACT_VALUES });
  return exact?.changed ? (exact.value as Record<string, unknown>) : undefined;
}

/**
 * A body with more values than this goes as parsed (~40 ms of reviver at most): a long Claude
 * Code request has some thousands; a hostile 6 MB of `1.0,` took 1.3 s of CPU and 120 MB.
 */
export const MAX_EXACT_VALUES = 50_000;
