import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError, ValidationError } from '../../shared/domain/errors.js';
import { NO_LIMIT } from '../../shared/domain/rate-limits.js';
import type { RateLimiter, RateLimits, RateSubject } from '../../shared/ports/rate-limiter.js';

/** 10:00:00 UTC, the start of a minute. */
const MINUTE = Date.parse('2026-11-15T10:00:00.000Z');

const newUser = (): RateSubject => `user:contract-${randomUUID()}`;

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
 * Every test works on a subject of its own, so limiters may share their storage.
 */
export function rateLimiterContract(createLimiter: () => Promise<RateLimiter>) {
  let limiter: RateLimiter;
  let subject: RateSubject;
  beforeEach(async () => {
    limiter = await createLimiter();
    subject = newUser();
  });
  const admit = (limits: RateLimits, tokens: number, nowMs: number, who = subject) =>
    limiter.admit({ subject: who, limits, tokens, nowMs });

  describe('admit', () => {
    it('admits requests within the limits and names the minute they count in, with its counts', async () => {
      const limits = { requestsPerMinute: 2, tokensPerMinute: 100 };

      const first = await admit(limits, 30, MINUTE + 42_500);
      const second = await admit(limits, 50, MINUTE + 59_999);

      expect(first).toEqual({ subject, windowStartMs: MINUTE, limits, requests: 1, tokens: 30 });
      expect(second).toEqual({ subject, windowStartMs: MINUTE, limits, requests: 2, tokens: 80 });
    });

    it('refuses the request past the request limit until the next minute', async () => {
      const limits = { requestsPerMinute: 2, tokensPerMinute: 1_000 };
      await admit(limits, 1, MINUTE);
      await admit(limits, 1, MINUTE + 1_000);

      const error = await rateLimitedError(admit(limits, 1, MINUTE + 45_200));
      const next = await admit(limits, 1, MINUTE + 60_000);

      expect(error.retryAfterSeconds).toBe(15);
      expect(next).toMatchObject({ windowStartMs: MINUTE + 60_000, requests: 1 });
    });

    it('refuses a request whose tokens do not fit what is left of the minute, without counting it', async () => {
      const limits = { requestsPerMinute: 10, tokensPerMinute: 100 };
      await admit(limits, 60, MINUTE);

      const error = await rateLimitedError(admit(limits, 50, MINUTE));
      const fits = await admit(limits, 40, MINUTE);

      expect(error.retryAfterSeconds).toBe(60);
      expect(fits).toMatchObject({ windowStartMs: MINUTE, requests: 2, tokens: 100 });
    });

    it('names the limits that bind in its refusal, never one left unset', async () => {
      const both = { requestsPerMinute: 1, tokensPerMinute: 1_000 };
      const requestsOnly = { requestsPerMinute: 1, tokensPerMinute: NO_LIMIT };
      const other = newUser();
      await admit(both, 1, MINUTE);
      await admit(requestsOnly, 1, MINUTE, other);

      const refusedBoth = await rateLimitedError(admit(both, 1, MINUTE));
      const refusedRequests = await rateLimitedError(admit(requestsOnly, 1, MINUTE, other));

      expect(refusedBoth.message).toBe('rate limit reached: 1 requests and 1000 tokens per minute');
      expect(refusedRequests.message).toBe('rate limit reached: 1 requests per minute');
    });

    it('refuses a request larger than the whole token limit as a bad request (waiting never helps), counting nothing', async () => {
      const limits = { requestsPerMinute: 1, tokensPerMinute: 100 };

      const tooLarge = admit(limits, 101, MINUTE);
      await expect(tooLarge).rejects.toBeInstanceOf(ValidationError);
      const small = await admit(limits, 100, MINUTE);

      expect(small).toMatchObject({ windowStartMs: MINUTE, requests: 1 });
    });

    it('counts each subject apart, a user and an API key of the same id included', async () => {
      const limits = { requestsPerMinute: 1, tokensPerMinute: 100 };
      const id = randomUUID();
      await admit(limits, 100, MINUTE, `user:${id}`);

      const other = await admit(limits, 100, MINUTE, newUser());
      const key = await admit(limits, 100, MINUTE, `key:${id}`);

      expect(other.windowStartMs).toBe(MINUTE);
      expect(key.subject).toBe(`key:${id}`);
      await rateLimitedError(admit(limits, 1, MINUTE, `user:${id}`));
    });

    it('applies the limits each request brings', async () => {
      await admit({ requestsPerMinute: 1, tokensPerMinute: 100 }, 10, MINUTE);

      const roomier = await admit({ requestsPerMinute: 5, tokensPerMinute: 100 }, 10, MINUTE);

      expect(roomier.requests).toBe(2);
      await rateLimitedError(admit({ requestsPerMinute: 2, tokensPerMinute: 100 }, 10, MINUTE));
    });
  });

  describe('adjust', () => {
    const limits = { requestsPerMinute: 10, tokensPerMinute: 100 };

    it('gives back tokens the request did not use', async () => {
      const window = await admit(limits, 80, MINUTE);

      await limiter.adjust(window, -50);

      const next = await admit(limits, 70, MINUTE + 1_000);
      expect(next).toMatchObject({ windowStartMs: MINUTE, tokens: 100 });
    });

    it('charges tokens the request used beyond its estimate', async () => {
      const window = await admit(limits, 10, MINUTE);

      await limiter.adjust(window, 85);

      await rateLimitedError(admit(limits, 10, MINUTE + 1_000));
    });

    it('withdraws a refused request and its tokens, so it uses none of the rate', async () => {
      const tight = { requestsPerMinute: 2, tokensPerMinute: 100 };
      await admit(tight, 10, MINUTE);
      const refused = await admit(tight, 80, MINUTE);

      await limiter.withdraw(refused, 80);

      const next = await admit(tight, 90, MINUTE + 1_000);
      expect(next).toMatchObject({ windowStartMs: MINUTE, requests: 2, tokens: 100 });
    });

    it('changes nothing in a window no request opened', async () => {
      await limiter.adjust(
        { subject, windowStartMs: MINUTE, limits, requests: 1, tokens: 0 },
        1_000,
      );

      const window = await admit(limits, 100, MINUTE);
      expect(window).toMatchObject({ windowStartMs: MINUTE, requests: 1, tokens: 100 });
    });
  });
}
