import { describe, expect, it } from 'vitest';
import type { ApiKeyGrant } from '../../../../shared/domain/api-key.js';
import { monthOf } from '../../../../shared/domain/budget.js';
import { BudgetExceededError, RateLimitedError } from '../../../../shared/domain/errors.js';
import { PriceTable } from '../../../../shared/domain/pricing/price-table.js';
import type { RateWindow } from '../../../../shared/ports/rate-limiter.js';
import { type AdmissionRequest, createAdmission } from '../../../../shared/usage/admission.js';
import { createBudgetReserver } from '../../../../shared/usage/budget-reserver.js';
import { InMemoryRateLimiter } from '../../../fakes/in-memory-rate-limiter.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';

/** 10:00:00 UTC, the start of a minute. */
const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');
const MONTH = monthOf(NOW_MS);
const KEY_ID = `key_${'b'.repeat(32)}`;

const USER_WINDOW: Pick<RateWindow, 'subject' | 'windowStartMs'> = {
  subject: 'user:alice',
  windowStartMs: NOW_MS,
};
const KEY_WINDOW: Pick<RateWindow, 'subject' | 'windowStartMs'> = {
  subject: `key:${KEY_ID}`,
  windowStartMs: NOW_MS,
};

const REQUEST: AdmissionRequest = {
  userId: 'alice',
  model: 'claude-sonnet-4-6',
  promptTokens: 400,
  promptMaxTokens: 1_000,
  maxOutputTokens: 600,
  nowMs: NOW_MS,
  expiresAtMs: NOW_MS + 60_000,
};
/** 400 estimated prompt tokens and 600 allowed output tokens. */
const ADMITTED_TOKENS = 1_000;
/** 1000 prompt tokens at Sonnet's dearest input ($6, a 1-hour cache write) + 600 x $15. */
const WORST_CASE_NANO_USD = 15_000_000;

const USAGE = {
  inputTokens: 300,
  outputTokens: 200,
  cacheReadInputTokens: 50,
  cacheCreationInputTokens: 10,
};
const USED_TOKENS = 560;

const withKey = (grant: Omit<ApiKeyGrant, 'id'>): AdmissionRequest => ({
  ...REQUEST,
  apiKey: { id: KEY_ID, ...grant },
});

function admissionFixture() {
  const ledger = new InMemoryUsageLedger();
  const rateLimiter = new InMemoryRateLimiter();
  const admission = createAdmission({
    budget: createBudgetReserver({
      ledger,
      prices: new PriceTable(),
      limits: { userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 1_000 },
    }),
    ledger,
    rateLimiter,
    userRateLimits: { requestsPerMinute: 10, tokensPerMinute: 10_000 },
    onLeftHeld: () => {},
  });
  /** What the user and the key hold this month, and the reservations open. */
  const held = async () => ({
    user: (await ledger.userMonth('alice', MONTH)).heldNanoUsd,
    key: (await ledger.keyMonth(KEY_ID, MONTH)).heldNanoUsd,
    reservations: (await ledger.listReservations()).length,
  });
  return { ledger, rateLimiter, admission, held };
}

describe('admission with API keys', () => {
  it("counts a call with a rate-limited key in its user's window and its key's", async () => {
    const { admission, rateLimiter } = admissionFixture();

    const admitted = await admission.admit(
      withKey({ requestsPerMinute: 5, tokensPerMinute: 5_000 }),
    );

    expect(admitted.rateWindows.map((window) => window.subject)).toEqual([
      'user:alice',
      `key:${KEY_ID}`,
    ]);
    expect(rateLimiter.countsOf(USER_WINDOW)).toEqual({ requests: 1, tokens: ADMITTED_TOKENS });
    expect(rateLimiter.countsOf(KEY_WINDOW)).toEqual({ requests: 1, tokens: ADMITTED_TOKENS });
  });

  it('counts a key that limits only its requests in its own window, its tokens unbounded', async () => {
    const { admission } = admissionFixture();

    const admitted = await admission.admit(withKey({ requestsPerMinute: 5 }));

    const keyWindow = admitted.rateWindows.find((window) => window.subject === KEY_WINDOW.subject);
    expect(keyWindow?.limits.requestsPerMinute).toBe(5);
    expect(keyWindow?.limits.tokensPerMinute).toBeGreaterThanOrEqual(Number.MAX_SAFE_INTEGER);
  });

  it("counts a call with a key without rates in its user's window only", async () => {
    const { admission, rateLimiter } = admissionFixture();

    const admitted = await admission.admit(
      withKey({ monthlyBudgetUsd: 5, allowedModels: ['claude-sonnet-4-6'] }),
    );

    expect(admitted.rateWindows.map((window) => window.subject)).toEqual(['user:alice']);
    expect(rateLimiter.countsOf(KEY_WINDOW)).toBeUndefined();
  });

  it('holds the worst-case cost against the key as well as the user', async () => {
    const { admission, held } = admissionFixture();

    await admission.admit(withKey({ monthlyBudgetUsd: 5, requestsPerMinute: 5 }));

    expect(await held()).toMatchObject({
      user: WORST_CASE_NANO_USD,
      key: WORST_CASE_NANO_USD,
      reservations: 1,
    });
  });

  it("gives back the budget and the user's window tokens when the key's window refuses", async () => {
    const { admission, rateLimiter, held } = admissionFixture();
    const keyLimits = { requestsPerMinute: 5, tokensPerMinute: ADMITTED_TOKENS + 10 };
    // The key's other requests took part of its minute.
    await rateLimiter.admit({
      subject: KEY_WINDOW.subject,
      limits: keyLimits,
      tokens: 20,
      nowMs: KEY_WINDOW.windowStartMs,
    });

    await expect(admission.admit(withKey(keyLimits))).rejects.toThrow(RateLimitedError);

    expect(await held()).toEqual({ user: 0, key: 0, reservations: 0 });
    expect(rateLimiter.countsOf(USER_WINDOW)?.tokens).toBe(0);
    expect(rateLimiter.countsOf(KEY_WINDOW)).toEqual({ requests: 1, tokens: 20 });
  });

  it("gives back the user's window tokens when the key has used its requests for the minute", async () => {
    const { admission, rateLimiter, held } = admissionFixture();
    const request = withKey({ requestsPerMinute: 1 });
    await admission.admit(request);

    await expect(admission.admit(request)).rejects.toThrow(RateLimitedError);

    expect(rateLimiter.countsOf(USER_WINDOW)?.tokens).toBe(ADMITTED_TOKENS);
    expect(rateLimiter.countsOf(KEY_WINDOW)).toEqual({ requests: 1, tokens: ADMITTED_TOKENS });
    expect(await held()).toMatchObject({ user: WORST_CASE_NANO_USD, reservations: 1 });
  });

  it('holds nothing and gives both windows back when the key budget refuses', async () => {
    const { admission, rateLimiter, held } = admissionFixture();

    await expect(
      admission.admit(withKey({ monthlyBudgetUsd: 0.001, requestsPerMinute: 5 })),
    ).rejects.toThrow(BudgetExceededError);

    expect(await held()).toEqual({ user: 0, key: 0, reservations: 0 });
    expect(rateLimiter.countsOf(USER_WINDOW)?.tokens).toBe(0);
    expect(rateLimiter.countsOf(KEY_WINDOW)?.tokens).toBe(0);
  });

  it('names the API key in a key budget refusal', async () => {
    const { admission } = admissionFixture();

    await expect(admission.admit(withKey({ monthlyBudgetUsd: 0.001 }))).rejects.toThrow(/API key/);
  });

  it('corrects both windows to the tokens used when the call settles', async () => {
    const { admission, rateLimiter } = admissionFixture();
    const admitted = await admission.admit(withKey({ tokensPerMinute: 5_000 }));

    await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(rateLimiter.countsOf(USER_WINDOW)?.tokens).toBe(USED_TOKENS);
    expect(rateLimiter.countsOf(KEY_WINDOW)?.tokens).toBe(USED_TOKENS);
  });

  it('gives both windows and the key budget back on release', async () => {
    const { admission, rateLimiter, held } = admissionFixture();
    const admitted = await admission.admit(withKey({ monthlyBudgetUsd: 5, requestsPerMinute: 5 }));

    await admitted.release();

    expect(await held()).toEqual({ user: 0, key: 0, reservations: 0 });
    expect(rateLimiter.countsOf(USER_WINDOW)?.tokens).toBe(0);
    expect(rateLimiter.countsOf(KEY_WINDOW)?.tokens).toBe(0);
  });

  describe('countFreeRequest', () => {
    it("counts a request of no tokens in the user's and the key's windows", async () => {
      const { admission, rateLimiter } = admissionFixture();

      const windows = await admission.countFreeRequest({
        userId: 'alice',
        apiKey: { id: KEY_ID, requestsPerMinute: 5 },
        nowMs: NOW_MS,
      });

      expect(windows.map((window) => window.subject)).toEqual(['user:alice', `key:${KEY_ID}`]);
      expect(rateLimiter.countsOf(USER_WINDOW)).toEqual({ requests: 1, tokens: 0 });
      expect(rateLimiter.countsOf(KEY_WINDOW)).toEqual({ requests: 1, tokens: 0 });
    });

    it("counts a request with a key without rates in the user's window only", async () => {
      const { admission, rateLimiter } = admissionFixture();

      const windows = await admission.countFreeRequest({
        userId: 'alice',
        apiKey: { id: KEY_ID },
        nowMs: NOW_MS,
      });

      expect(windows.map((window) => window.subject)).toEqual(['user:alice']);
      expect(rateLimiter.countsOf(KEY_WINDOW)).toBeUndefined();
    });

    it('refuses a free request once the key has used its requests for the minute', async () => {
      const { admission } = admissionFixture();
      const request = {
        userId: 'alice',
        apiKey: { id: KEY_ID, requestsPerMinute: 1 },
        nowMs: NOW_MS,
      };
      await admission.countFreeRequest(request);

      await expect(admission.countFreeRequest(request)).rejects.toThrow(RateLimitedError);
    });

    it("takes back the user's window when the key's refuses: the request used none of it", async () => {
      const { admission, rateLimiter } = admissionFixture();
      const request = {
        userId: 'alice',
        apiKey: { id: KEY_ID, requestsPerMinute: 1 },
        nowMs: NOW_MS,
      };
      await admission.countFreeRequest(request);

      for (let refused = 0; refused < 3; refused++) {
        await expect(admission.countFreeRequest(request)).rejects.toThrow(RateLimitedError);
      }

      expect(rateLimiter.countsOf(USER_WINDOW)).toEqual({ requests: 1, tokens: 0 });
      expect(rateLimiter.countsOf(KEY_WINDOW)?.requests).toBe(1);
    });
  });
});
