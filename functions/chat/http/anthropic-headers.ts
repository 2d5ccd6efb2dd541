import type { RateWindow } from '../../../shared/ports/rate-limiter.js';
import type { CacheDirective } from '../messages/messages-types.js';

/** What a /v1/messages caller says in its headers, beside its credentials. */
export function anthropicRequestHeaders(headers: Headers): {
  anthropicVersion?: string;
  betas: string[];
  cache: CacheDirective;
} {
  const version = headers.get('anthropic-version')?.trim();
  const betas = (headers.get('anthropic-beta') ?? '')
    .split(',')
    .map((beta) => beta.trim())
    .filter(Boolean);
  return { ...(version && { anthropicVersion: version }), betas, cache: cacheDirective(headers) };
}

function cacheDirective(headers: Headers): CacheDirective {
  const directives = (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((directive) => directive.trim());
  if (directives.includes('no-store')) return 'bypass';
  if (directives.includes('no-cache')) return 'refresh';
  return 'default';
}

/**
 * Anthropic's rate-limit headers, from the tightest window the request was counted in
 * (its user's or its API key's), so SDK users see what they are used to.
 */
export function rateLimitHeaders(windows: readonly RateWindow[]): Record<string, string> {
  if (windows.length === 0) return {};
  const reset = (window: RateWindow) => new Date(window.windowStartMs + 60_000).toISOString();
  const byRequests = tightest(windows, (w) => w.limits.requestsPerMinute - w.requests);
  const byTokens = tightest(windows, (w) => w.limits.tokensPerMinute - w.tokens);
  return {
    'anthropic-ratelimit-requests-limit': String(byRequests.limits.requestsPerMinute),
    'anthropic-ratelimit-requests-remaining': String(
      Math.max(0, byRequests.limits.requestsPerMinute - byRequests.requests),
    ),
    'anthropic-ratelimit-requests-reset': reset(byRequests),
    'anthropic-ratelimit-tokens-limit': String(byTokens.limits.tokensPerMinute),
    'anthropic-ratelimit-tokens-remaining': String(
      Math.max(0, byTokens.limits.tokensPerMinute - byTokens.tokens),
    ),
    'anthropic-ratelimit-tokens-reset': reset(byTokens),
  };
}

function tightest(windows: readonly RateWindow[], remaining: (window: RateWindow) => number) {
  return windows.reduce((best, window) => (remaining(window) < remaining(best) ? window : best));
}
