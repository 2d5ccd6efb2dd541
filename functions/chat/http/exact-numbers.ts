import { parseJsonExactly } from '../../../shared/gateway/exact-json.js';

/**
 * The request's JSON body with its numbers exactly as written, when parsing it changes one
 * (see `parseJsonExactly`): sent upstream in place of the parsed body, the Anthropic API gets
 * what the caller sent, and the model its own earlier tool calls unaltered. Undefined when
 * parsing changes no number: the parsed body is then exact.
 *
 * The body is read again here: Event Handler validated a copy of it.
 */
export async function bodyWithExactNumbers(
  request: Request,
): Promise<Record<string, unknown> | undefined> {
  if (request.bodyUsed) return undefined;
  const { value, changed } = parseJsonExactly(await request.text());
  return changed ? (value as Record<string, unknown>) : undefined;
}
