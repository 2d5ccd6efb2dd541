import { secondsToNextMinute } from '../../shared/domain/budget.js';
import { RateLimitedError } from '../../shared/domain/errors.js';
import type { RateLimiter, RateWindow } from '../../shared/ports/rate-limiter.js';

const WINDOW_MS = 60_000;

/**
 * The RateLimiter port in memory, with the DynamoDB adapter's semantics: fixed
 * one-minute windows per user; a refused request is not counted; a correction to a
 * window that was never opened changes nothing.
 */
export class InMemoryRateLimiter implements RateLimiter {
  /** Every correction asked for, in order. */
  readonly adjustments: Array<{ window: RateWindow; tokenDelta: number }> = [];
  private readonly windows = new Map<string, { requests: number; tokens: number }>();

  constructor(private readonly limits: { requestsPerMinute: number; tokensPerMinute: number }) {}

  async admit(request: { userId: string; tokens: number; nowMs: number }): Promise<RateWindow> {
    const windowStartMs = request.nowMs - (request.nowMs % WINDOW_MS);
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    if (request.tokens > tokensPerMinute) {
      throw new RateLimitedError(
        `this request's ${request.tokens} tokens exceed the limit of ${tokensPerMinute} tokens per minute; lower maxTokens`,
        60,
      );
    }
    const window = this.windows.get(keyOf({ userId: request.userId, windowStartMs }));
    if (
      window &&
      (window.requests >= requestsPerMinute || window.tokens + request.tokens > tokensPerMinute)
    ) {
      throw new RateLimitedError(
        `rate limit reached: ${requestsPerMinute} requests and ${tokensPerMinute} tokens per minute`,
        secondsToNextMinute(request.nowMs),
      );
    }
    this.windows.set(keyOf({ userId: request.userId, windowStartMs }), {
      requests: (window?.requests ?? 0) + 1,
      tokens: (window?.tokens ?? 0) + request.tokens,
    });
    return { userId: request.userId, windowStartMs };
  }

  async adjust(window: RateWindow, tokenDelta: number): Promise<void> {
    this.adjustments.push({ window: { ...window }, tokenDelta });
    const counted = this.windows.get(keyOf(window));
    if (counted) counted.tokens += tokenDelta;
  }

  /** What a window has counted so far; undefined when no request opened it. */
  countsOf(window: RateWindow): { requests: number; tokens: number } | undefined {
    const counted = this.windows.get(keyOf(window));
    return counted && { ...counted };
  }
}

const keyOf = (window: RateWindow) => `${window.userId}\u0000${window.windowStartMs}`;
