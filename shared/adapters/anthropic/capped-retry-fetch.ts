import { retryAfterMs, UPSTREAM_SHOULD_RETRY } from './model-error.js';

/** Statuses the SDK retries, honouring their retry-after. */
const RETRIED = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

/**
 * `fetch` for the Anthropic SDK that bounds how long it waits between retries: a
 * response asking for a longer wait than `maxRetryWaitMs` is marked
 * `x-should-retry: false`, which the SDK honours, so the caller hears at once, with
 * the upstream's retry-after, instead of after minutes of silence.
 */
export function cappedRetryFetch(maxRetryWaitMs: number, next: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await next(input, init);
    if (!RETRIED.has(response.status)) return response;
    const waitMs = retryAfterMs(response.headers);
    if (waitMs === undefined || waitMs <= maxRetryWaitMs) return response;
    const headers = new Headers(response.headers);
    headers.set(UPSTREAM_SHOULD_RETRY, response.headers.get('x-should-retry') ?? '');
    headers.set('x-should-retry', 'false');
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}
