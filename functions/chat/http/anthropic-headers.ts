import type { RateWindow } from '../../../shared/ports/rate-limiter.js';
import type { CacheDirective } from '../messages/messages-types.js';

/** What a /v1/messages caller says in its headers, beside its credentials. */
export function anthropicRequestHeaders(headers: Headers): {
  anthropicVersion?: string;
  betas: string[];
  cache: CacheDirective;
  callerRetries: boolean;
} {
  const version = headers.get('anthropic-version')?.trim();
  const betas = (headers.get('anthropic-beta') ?? '')
    .split(',')
    .map((beta) => beta.trim())
    .filter(Boolean);
  return {
    ...(version && { anthropicVersion: version }),
    betas,
    cache: cacheDirective(headers),
    callerRetries: retriesItself(headers),
  };
}

/**
 * The AI SDK's calls: `ai/7.0.173 …` from `generateText`, `ai-sdk-anthropic/4.0.105 …` from
 * `streamText`; both retry (their `maxRetries`, 2 by default).
 */
const AI_SDK_USER_AGENT = /(?:^|\s)(?:ai|ai-sdk-anthropic)\/\d/;

/**
 * Whether the caller's client retries a failed call itself: the official SDKs (Claude Code's
 * included) send `x-stainless-retry-count` on every attempt, `0` on the first and with
 * `maxRetries: 0` too; the AI SDK's calls name it in their user agent. Retrying for them as
 * well would multiply the attempts (up to 9 upstream calls for the SDK's 3).
 */
function retriesItself(headers: Headers): boolean {
  return (
    headers.has('x-stainless-retry-count') ||
    AI_SDK_USER_AGENT.test(headers.get('user-agent') ?? '')
  );
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
