import { secondsToNextMinute } from '../../shared/domain/budget.js';
import { RateLimitedError, ValidationError } from '../../shared/domain/errors.js';
import { rateLimitReachedMessage } from '../../shared/domain/rate-limits.js';
import type { RateLimiter, RateWindow } from '../../shared/ports/rate-limiter.js';

const WINDOW_MS = 60_000;

/**
 * The RateLimiter port in memory, with the DynamoDB adapter's semantics: fixed
 * one-minute windows per subject; a refused request is not counted; a correction to a
 * window that was never opened changes nothing.
 */
export class InMemoryRateLimiter implements RateLimiter {
  /** Every correction asked for, in order. */
  readonly adjustments: Array<{ window: RateWindow; tokenDelta: number }> = [];
  readonly withdrawals: Array<{ window: RateWindow; tokens: number }> = [];
  private readonly windows = new Map<string, { requests: number; tokens: number }>();

  async admit(request: Parameters<RateLimiter['admit']>[0]): Promise<RateWindow> {
    const { subject, limits, tokens, nowMs } = request;
    const windowStartMs = nowMs - (nowMs % WINDOW_MS);
    const { requestsPerMinute, tokensPerMinute } = limits;
    if (tokens > tokensPerMinute) {
      throw new ValidationError(
        `this request's ${tokens} tokens (estimated prompt + maximum output) exceed the limit of ${tokensPerMinute} tokens per minute; lower the output token limit or shorten the prompt`,
      );
    }
    const key = keyOf({ subject, windowStartMs });
    const window = this.windows.get(key);
    if (
      window &&
      (window.requests >= requestsPerMinute || window.tokens + tokens > tokensPerMinute)
    ) {
      throw new RateLimitedError(rateLimitReachedMessage(limits), secondsToNextMinute(nowMs));
    }
    const counted = {
      requests: (window?.requests ?? 0) + 1,
      tokens: (window?.tokens ?? 0) + tokens,
    };
    this.windows.set(key, counted);
    return { subject, windowStartMs, limits, ...counted };
  }

  async withdraw(window: RateWindow, tokens: number): Promise<void> {
    this.withdrawals.push({ window: { ...window }, tokens });
    const counted = this.windows.get(keyOf(window));
    if (!counted) return;
    counted.requests -= 1;
    counted.tokens -= tokens;
  }

  async adjust(window: RateWindow, tokenDelta: number): Promise<void> {
    this.adjustments.push({ window: { ...window }, tokenDelta });
    const counted = this.windows.get(keyOf(window));
    if (counted) counted.tokens += tokenDelta;
  }

  /** What a window has counted so far; undefined when no request opened it. */
  countsOf(window: Pick<RateWindow, 'subject' | 'windowStartMs'>) {
    const counted = this.windows.get(keyOf(window));
    return counted && { ...counted };
  }
}

const keyOf = (window: Pick<RateWindow, 'subject' | 'windowStartMs'>) =>
  `${window.subject}\u0000${window.windowStartMs}`;
