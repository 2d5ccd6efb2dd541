import { countInternalError } from '../../../shared/observability/internal-errors.js';
import type { RequestScope } from './chat-router.js';

/** A comment line that keeps idle connections (and proxies) open. */
const SSE_PING = ': ping\n\n';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * A Server-Sent Events response fed by `produce`, which writes encoded events until
 * it resolves. Text is written as UTF-8 bytes, never cut inside a character; a `: ping`
 * comment goes out every `pingIntervalMs`. The request ends when the stream does. For a
 * HEAD, `produce` is never called.
 */
export function sseResponse(
  scope: RequestScope,
  produce: (write: (text: string) => void) => Promise<void>,
  options: { pingIntervalMs: number; headers?: Record<string, string> },
): Response {
  const headers = { ...SSE_HEADERS, ...options.headers };
  // A HEAD's body is dropped unread: producing it would follow a turn, poll the table and hold
  // the request open until that turn ends, for nothing. Only GET routes answer HEAD, and their
  // streams follow a turn; none runs one (a turn runs on whether its stream is read or not).
  if (scope.headOnly) return new Response(null, { status: 200, headers });
  const endRequest = scope.keepOpen();
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          open = false; // the reader is gone; the producer runs on regardless
        }
      };
      const ping = setInterval(() => write(SSE_PING), options.pingIntervalMs);
      void produce(write)
        .catch((error: unknown) => {
          scope.logger.error('the stream failed', { error });
          countInternalError(scope.metrics);
        })
        .finally(() => {
          clearInterval(ping);
          try {
            if (open) controller.close();
          } catch {
            // Closed meanwhile: the request ends all the same.
          }
          open = false;
          endRequest();
        });
    },
    // The reader is gone: the stream is closed already (closing it again would throw).
    cancel() {
      open = false;
    },
  });
  return new Response(body, { status: 200, headers });
}
