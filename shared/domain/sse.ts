/** Server-Sent Events framing for the chat stream. */

/** One event: an `event:` line and a `data:` line whose JSON repeats the name in `type`. */
export function sseEvent(name: string, data: Record<string, unknown>): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

/** A comment line that keeps idle connections (and proxies) open. */
export const SSE_PING = ': ping\n\n';
