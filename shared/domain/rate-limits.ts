import type { RateLimits } from '../ports/rate-limiter.js';

/** A limit an API key leaves unset: it never binds. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** What a refused caller is told: the limits that bind, never one left unset. */
export function rateLimitReachedMessage({
  requestsPerMinute,
  tokensPerMinute,
}: RateLimits): string {
  const binding = [
    requestsPerMinute < NO_LIMIT && `${requestsPerMinute} requests`,
    tokensPerMinute < NO_LIMIT && `${tokensPerMinute} tokens`,
  ].filter(Boolean);
  return `rate limit reached: ${binding.join(' and ')} per minute`;
}
