import type { MessagesAnswer } from '../messages/messages-types.js';
import { rateLimitHeaders } from './anthropic-headers.js';
import type { RequestScope } from './chat-router.js';

/**
 * A /v1/messages answer as HTTP: the upstream's JSON or events unchanged, with the cache
 * outcome and rate limits (`requestScope` adds our request id).
 */
export function messagesResponse(scope: RequestScope, answer: MessagesAnswer): Response {
  const headers: Record<string, string> = {
    'x-cache': answer.cache,
    ...(answer.upstreamRequestId && { 'x-upstream-request-id': answer.upstreamRequestId }),
    ...rateLimitHeaders(answer.rateWindows),
  };
  if (answer.kind === 'json') {
    return new Response(answer.body, {
      status: answer.status,
      headers: { ...headers, 'content-type': 'application/json' },
    });
  }
  return new Response(textStream(scope, answer.events), {
    status: 200,
    headers: {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}

/** Pulls the events as the response is read; the request ends when they do. */
function textStream(
  scope: RequestScope,
  events: AsyncIterable<string>,
): ReadableStream<Uint8Array> {
  const endRequest = scope.keepOpen();
  const encoder = new TextEncoder();
  const iterator = events[Symbol.asyncIterator]();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    endRequest();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          end();
        } else {
          controller.enqueue(encoder.encode(next.value));
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    async cancel() {
      // The reader is gone (locally; on AWS a disconnect never reaches the function):
      // ending the iterator still settles what was generated.
      await iterator.return?.();
      end();
    },
  });
}
