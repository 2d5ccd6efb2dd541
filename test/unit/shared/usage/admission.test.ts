import { describe, expect, it } from 'vitest';
import { monthOf } from '../../../../shared/domain/budget.js';
import { BudgetExceededError, RateLimitedError } from '../../../../shared/domain/errors.js';
import { PriceTable } from '../../../../shared/domain/pricing/price-table.js';
import { NOTHING_COUNTED, SettleIncompleteError } from '../../../../shared/domain/settlement.js';
import type { RateWindow } from '../../../../shared/ports/rate-limiter.js';
import { type AdmissionRequest, createAdmission } from '../../../../shared/usage/admission.js';
import { createBudgetReserver } from '../../../../shared/usage/budget-reserver.js';
import { InMemoryRateLimiter } from '../../../fakes/in-memory-rate-limiter.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';

/** 10:00:00 UTC, the start of a minute. */
const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');
const WINDOW: Pick<RateWindow, 'subject' | 'windowStartMs'> = {
  subject: 'user:alice',
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

const unreachable = () => new Error('the table is unreachable');

class UnreleasingLedger extends InMemoryUsageLedger {
  override async release(): Promise<never> {
    throw unreachable();
  }
}

class UnwithdrawingRateLimiter extends InMemoryRateLimiter {
  override async withdraw(): Promise<never> {
    throw unreachable();
  }
}

function admissionFixture(
  options: {
    ledger?: InMemoryUsageLedger;
    rateLimiter?: InMemoryRateLimiter;
    tokensPerMinute?: number;
  } = {},
) {
  const ledger = options.ledger ?? new InMemoryUsageLedger();
  const rateLimiter = options.rateLimiter ?? new InMemoryRateLimiter();
  const leftHeld: unknown[] = [];
  const admission = createAdmission({
    budget: createBudgetReserver({
      ledger,
      prices: new PriceTable(),
      limits: { userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 1_000 },
    }),
    ledger,
    rateLimiter,
    userRateLimits: { requestsPerMinute: 10, tokensPerMinute: options.tokensPerMinute ?? 10_000 },
    onLeftHeld: (error) => leftHeld.push(error),
  });
  const month = () => ledger.userMonth('alice', monthOf(NOW_MS));
  return { ledger, rateLimiter, admission, month, leftHeld };
}

describe('admission', () => {
  it('holds the worst-case cost, and counts the prompt estimate and output allowance in the rate window', async () => {
    const { admission, rateLimiter, month } = admissionFixture();

    await admission.admit(REQUEST);

    expect((await month()).heldNanoUsd).toBe(WORST_CASE_NANO_USD);
    expect(rateLimiter.countsOf(WINDOW)).toEqual({ requests: 1, tokens: ADMITTED_TOKENS });
  });

  it('settles the actual cost and corrects the rate window to the tokens used', async () => {
    const { admission, rateLimiter, month } = admissionFixture();
    const admitted = await admission.admit(REQUEST);

    const outcome = await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(outcome).toEqual({
      reservationId: expect.any(String),
      overrunNanoUsd: 0,
      counted: { usage: USAGE, costNanoUsd: 1_234_000 },
    });
    expect(await month()).toMatchObject({
      requests: 1,
      spentNanoUsd: 1_234_000,
      heldNanoUsd: 1_234_000,
      inputTokens: 300,
      outputTokens: 200,
      cacheReadInputTokens: 50,
      cacheCreationInputTokens: 10,
    });
    expect(rateLimiter.countsOf(WINDOW)?.tokens).toBe(USED_TOKENS);
    expect(rateLimiter.adjustments).toEqual([
      { window: expect.objectContaining(WINDOW), tokenDelta: USED_TOKENS - ADMITTED_TOKENS },
    ]);
  });

  it('gives the budget hold and the rate window back on release', async () => {
    const { admission, rateLimiter, ledger, month } = admissionFixture();
    const admitted = await admission.admit(REQUEST);

    await admitted.release();

    expect((await month()).heldNanoUsd).toBe(0);
    expect(rateLimiter.countsOf(WINDOW)?.tokens).toBe(0);
    expect(ledger.settled).toEqual([]);
  });

  /** The user's window with `tokens` of the minute's allowance taken by another request. */
  const busy = async (rateLimiter: InMemoryRateLimiter, tokensPerMinute: number) => {
    await rateLimiter.admit({
      subject: 'user:alice',
      limits: { requestsPerMinute: 10, tokensPerMinute },
      tokens: 20,
      nowMs: NOW_MS,
    });
  };

  it('gives the budget hold back when the rate limit refuses', async () => {
    const rateLimiter = new InMemoryRateLimiter();
    await busy(rateLimiter, ADMITTED_TOKENS + 10);
    const { admission, month } = admissionFixture({
      rateLimiter,
      tokensPerMinute: ADMITTED_TOKENS + 10,
    });

    await expect(admission.admit(REQUEST)).rejects.toThrow(RateLimitedError);

    expect((await month()).heldNanoUsd).toBe(0);
  });

  it('gives the rate window back when the budget refuses', async () => {
    const { admission, ledger, rateLimiter } = admissionFixture();
    await ledger.setUserBudgetOverride('alice', 0.001, NOW_MS);

    await expect(admission.admit(REQUEST)).rejects.toThrow(BudgetExceededError);

    expect(rateLimiter.countsOf(WINDOW)).toMatchObject({ requests: 0, tokens: 0 });
    expect(rateLimiter.withdrawals).toEqual([
      { window: expect.objectContaining(WINDOW), tokens: ADMITTED_TOKENS },
    ]);
  });

  it('throws the rate limit when both refuse, holding nothing', async () => {
    const rateLimiter = new InMemoryRateLimiter();
    await busy(rateLimiter, ADMITTED_TOKENS + 10);
    const { admission, ledger, month } = admissionFixture({
      rateLimiter,
      tokensPerMinute: ADMITTED_TOKENS + 10,
    });
    await ledger.setUserBudgetOverride('alice', 0.001, NOW_MS);

    await expect(admission.admit(REQUEST)).rejects.toThrow(RateLimitedError);

    expect((await month()).heldNanoUsd).toBe(0);
  });

  it('still refuses when what it held cannot be given back, and reports what is left held', async () => {
    const rateLimiter = new InMemoryRateLimiter();
    await busy(rateLimiter, ADMITTED_TOKENS + 10);
    const { admission, month, leftHeld } = admissionFixture({
      ledger: new UnreleasingLedger(),
      rateLimiter,
      tokensPerMinute: ADMITTED_TOKENS + 10,
    });

    await expect(admission.admit(REQUEST)).rejects.toThrow(RateLimitedError);

    expect(leftHeld).toEqual([unreachable()]);
    // Held until it expires: the sweep's to take back.
    expect((await month()).heldNanoUsd).toBe(WORST_CASE_NANO_USD);
  });

  it('reports what a release could not give back instead of throwing', async () => {
    const { admission, rateLimiter, month, leftHeld } = admissionFixture({
      ledger: new UnreleasingLedger(),
    });
    const admitted = await admission.admit(REQUEST);

    await admitted.release();

    expect(leftHeld).toEqual([unreachable()]);
    expect((await month()).heldNanoUsd).toBe(WORST_CASE_NANO_USD);
    // What could be given back was.
    expect(rateLimiter.countsOf(WINDOW)?.tokens).toBe(0);
  });

  it('still refuses when a window it counted in cannot be given back', async () => {
    const { admission, ledger, leftHeld } = admissionFixture({
      rateLimiter: new UnwithdrawingRateLimiter(),
    });
    await ledger.setUserBudgetOverride('alice', 0.001, NOW_MS);

    await expect(admission.admit(REQUEST)).rejects.toThrow(BudgetExceededError);

    expect(leftHeld).toEqual([unreachable()]);
  });

  it('reports a spend the ledger could not record instead of throwing, and still corrects the rate window', async () => {
    const failure = new SettleIncompleteError(NOTHING_COUNTED, unreachable());
    class UnsettlingLedger extends InMemoryUsageLedger {
      override async settle(): Promise<never> {
        throw failure;
      }
    }
    const { admission, rateLimiter } = admissionFixture({ ledger: new UnsettlingLedger() });
    const admitted = await admission.admit(REQUEST);

    const outcome = await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(outcome).toEqual({
      reservationId: expect.any(String),
      overrunNanoUsd: 0,
      // Only what the ledger counted: the sweep that settles the rest publishes it.
      counted: NOTHING_COUNTED,
      ledgerError: failure,
    });
    expect(rateLimiter.countsOf(WINDOW)?.tokens).toBe(USED_TOKENS);
  });

  it("counts what a failed settle counted in the deployment's month, when that write succeeded", async () => {
    const counted = { usage: USAGE, costNanoUsd: 1_234_000 };
    class HalfSettlingLedger extends InMemoryUsageLedger {
      override async settle(): Promise<never> {
        throw new SettleIncompleteError(counted, unreachable());
      }
    }
    const { admission } = admissionFixture({ ledger: new HalfSettlingLedger() });
    const admitted = await admission.admit(REQUEST);

    const outcome = await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(outcome.counted).toEqual(counted);
    expect(outcome.ledgerError).toBeInstanceOf(SettleIncompleteError);
  });

  it('reports a rate window it could not correct instead of throwing, and still records the spend', async () => {
    class StuckRateLimiter extends InMemoryRateLimiter {
      override async adjust(): Promise<void> {
        throw unreachable();
      }
    }
    const rateLimiter = new StuckRateLimiter();
    const { admission, month } = admissionFixture({ rateLimiter });
    const admitted = await admission.admit(REQUEST);

    const outcome = await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(outcome).toEqual({
      reservationId: expect.any(String),
      overrunNanoUsd: 0,
      counted: { usage: USAGE, costNanoUsd: 1_234_000 },
      rateWindowError: unreachable(),
    });
    expect((await month()).spentNanoUsd).toBe(1_234_000);
  });

  describe('check (a response-cache replay)', () => {
    it('holds and counts nothing when it admits', async () => {
      const { admission, rateLimiter, ledger, month } = admissionFixture();

      await admission.check(REQUEST);

      expect((await month()).heldNanoUsd).toBe(0);
      expect(rateLimiter.countsOf(WINDOW)).toMatchObject({ requests: 0, tokens: 0 });
      expect(await ledger.listReservations()).toEqual([]);
    });

    it('gives the windows as they stand without it, for the rate-limit headers', async () => {
      const { admission } = admissionFixture();
      await admission.admit(REQUEST);

      const windows = await admission.check(REQUEST);

      expect(windows).toEqual([
        expect.objectContaining({ ...WINDOW, requests: 1, tokens: ADMITTED_TOKENS }),
      ]);
    });

    it('admits when what it held cannot be given back, and reports what is left held', async () => {
      const { admission, leftHeld } = admissionFixture({ ledger: new UnreleasingLedger() });

      await admission.check(REQUEST);

      expect(leftHeld).toEqual([unreachable()]);
    });

    it('refuses as admit does: a budget of 0, or a full window', async () => {
      const zeroed = admissionFixture();
      await zeroed.ledger.setUserBudgetOverride('alice', 0, NOW_MS);
      const rateLimiter = new InMemoryRateLimiter();
      await busy(rateLimiter, ADMITTED_TOKENS + 10);
      const busyWindow = admissionFixture({ rateLimiter, tokensPerMinute: ADMITTED_TOKENS + 10 });

      await expect(zeroed.admission.check(REQUEST)).rejects.toThrow(BudgetExceededError);
      await expect(busyWindow.admission.check(REQUEST)).rejects.toThrow(RateLimitedError);

      expect((await zeroed.month()).heldNanoUsd).toBe(0);
      expect((await busyWindow.month()).heldNanoUsd).toBe(0);
    });
  });

  it('names the reservation it settled', async () => {
    const { admission, ledger } = admissionFixture();
    const admitted = await admission.admit(REQUEST);

    const outcome = await admitted.settle({ usage: USAGE, costNanoUsd: 1_234_000 });

    expect(ledger.settled.map((settled) => settled.reservation.id)).toEqual([
      outcome.reservationId,
    ]);
  });
});
