import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../shared/domain/errors.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';

export interface RateLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** 10:00:00 UTC, the start of a minute. */
const MINUTE = Date.parse('2026-11-15T10:00:00.000Z');

const newUserId = () => `contract-${randomUUID()}`;

async function rateLimitedError(attempt: Promise<unknown>): Promise<RateLimitedError> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
}

/**
 * The RateLimiter port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * Every test works on a user of its own, so limiters may share their storage.
 */
export function rateLimiterContract(subject: (limits: RateLimits) => Promise<RateLimiter>) {
  let userId: string;
  beforeEach(() => {
    userId = newUserId();
  });

  describe('admit', () => {
    it('admits requests within the limits and names the minute they count in', async () => {
      const limiter = await subject({ requestsPerMinute: 2, tokensPerMinute: 100 });

      const window = await limiter.admit({ userId, tokens: 50, nowMs: MINUTE + 42_500 });
      await limiter.admit({ userId, tokens: 50, nowMs: MINUTE + 59_999 });

      expect(window).toEqual({ userId, windowStartMs: MINUTE });
    });

    it('refuses the request past the request limit until the next minute', async () => {
      const limiter = await subject({ requestsPerMinute: 2, tokensPerMinute: 1_000 });
      await limiter.admit({ userId, tokens: 1, nowMs: MINUTE });
      await limiter.admit({ userId, tokens: 1, nowMs: MINUTE + 1_000 });

      const error = await rateLimitedError(
        limiter.admit({ userId, tokens: 1, nowMs: MINUTE + 45_200 }),
      );
      const next = await limiter.admit({ userId, tokens: 1, nowMs: MINUTE + 60_000 });

      expect(error.retryAfterSeconds).toBe(15);
      expect(next.windowStartMs).toBe(MINUTE + 60_000);
    });

    it('refuses a request whose tokens do not fit what is left of the minute, without counting it', async () => {
      const limiter = await subject({ requestsPerMinute: 10, tokensPerMinute: 100 });
      await limiter.admit({ userId, tokens: 60, nowMs: MINUTE });

      const error = await rateLimitedError(limiter.admit({ userId, tokens: 50, nowMs: MINUTE }));
      const fits = await limiter.admit({ userId, tokens: 40, nowMs: MINUTE });

      expect(error.retryAfterSeconds).toBe(60);
      expect(fits.windowStartMs).toBe(MINUTE);
    });

    it('refuses a request larger than the whole token limit, asking to wait a minute', async () => {
      const limiter = await subject({ requestsPerMinute: 1, tokensPerMinute: 100 });

      const error = await rateLimitedError(limiter.admit({ userId, tokens: 101, nowMs: MINUTE }));
      const small = await limiter.admit({ userId, tokens: 100, nowMs: MINUTE });

      expect(error.retryAfterSeconds).toBe(60);
      expect(small.windowStartMs).toBe(MINUTE);
    });

    it('counts each user apart', async () => {
      const limiter = await subject({ requestsPerMinute: 1, tokensPerMinute: 100 });
      await limiter.admit({ userId, tokens: 100, nowMs: MINUTE });

      const other = await limiter.admit({ userId: newUserId(), tokens: 100, nowMs: MINUTE });

      expect(other.windowStartMs).toBe(MINUTE);
      await rateLimitedError(limiter.admit({ userId, tokens: 1, nowMs: MINUTE }));
    });
  });

  describe('adjust', () => {
    it('gives back tokens the request did not use', async () => {
      const limiter = await subject({ requestsPerMinute: 10, tokensPerMinute: 100 });
      const window = await limiter.admit({ userId, tokens: 80, nowMs: MINUTE });

      await limiter.adjust(window, -50);

      const next = await limiter.admit({ userId, tokens: 70, nowMs: MINUTE + 1_000 });
      expect(next.windowStartMs).toBe(MINUTE);
    });

    it('charges tokens the request used beyond its estimate', async () => {
      const limiter = await subject({ requestsPerMinute: 10, tokensPerMinute: 100 });
      const window = await limiter.admit({ userId, tokens: 10, nowMs: MINUTE });

      await limiter.adjust(window, 85);

      await rateLimitedError(limiter.admit({ userId, tokens: 10, nowMs: MINUTE + 1_000 }));
    });

    it('changes nothing in a window no request opened', async () => {
      const limiter = await subject({ requestsPerMinute: 10, tokensPerMinute: 100 });

      await limiter.adjust({ userId, windowStartMs: MINUTE }, 1_000);

      const window = await limiter.admit({ userId, tokens: 100, nowMs: MINUTE });
      expect(window.windowStartMs).toBe(MINUTE);
    });
  });
}
