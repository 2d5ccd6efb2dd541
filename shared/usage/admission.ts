import type { TokenUsage } from '../domain/usage.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Reservation, UsageLedger } from '../ports/usage-ledger.js';
import type { BudgetRequest, BudgetReserver } from './budget-reserver.js';

export interface AdmissionRequest extends BudgetRequest {
  /** The typical-case estimate of the prompt's tokens, for the rate limit. */
  promptTokens: number;
}

/** What an admitted call holds until it settles: budget and rate-window tokens. */
export interface Admitted {
  /** The budget held for the call (its worst-case cost). */
  readonly reservation: Reservation;
  /** The worst-case cost held for the call. */
  readonly reservedNanoUsd: number;
  /** Records the actual cost and usage; gives back the rest of the hold. */
  settle(actual: { usage: TokenUsage; costNanoUsd: number }): Promise<SettleOutcome>;
  /** Gives everything back: the call was never made. */
  release(): Promise<void>;
}

/** Settling never fails the call: what could not be recorded is reported. */
export interface SettleOutcome {
  /** What the call cost beyond the worst case reserved for it (0 when it fit). */
  overrunNanoUsd: number;
  /** The spend is missing from the ledger (the reservation still holds the worst case). */
  ledgerError?: unknown;
  rateWindowError?: unknown;
  reservationId: string;
}

export interface Admission {
  /**
   * Rate limit and budget, checked together: the worst-case cost of the call is
   * reserved up front, so the budget holds however many calls run at once.
   * @throws RateLimitedError or BudgetExceededError; nothing stays held then
   */
  admit(request: AdmissionRequest): Promise<Admitted>;
}

export function createAdmission(deps: {
  budget: BudgetReserver;
  ledger: Pick<UsageLedger, 'settle' | 'release'>;
  rateLimiter: RateLimiter;
}): Admission {
  const { budget, ledger, rateLimiter } = deps;
  return {
    async admit(request) {
      const admittedTokens = request.promptTokens + request.maxOutputTokens;
      const [rate, reserved] = await Promise.allSettled([
        rateLimiter.admit({ userId: request.userId, tokens: admittedTokens, nowMs: request.nowMs }),
        budget.reserve(request),
      ]);
      if (rate.status === 'rejected' || reserved.status === 'rejected') {
        await Promise.all([
          reserved.status === 'fulfilled' && ledger.release(reserved.value),
          rate.status === 'fulfilled' && rateLimiter.adjust(rate.value, -admittedTokens),
        ]);
        throw rate.status === 'rejected' ? rate.reason : (reserved as PromiseRejectedResult).reason;
      }
      const reservation = reserved.value;
      const window = rate.value;
      return {
        reservation,
        reservedNanoUsd: reservation.amountNanoUsd,
        async settle({ usage, costNanoUsd }) {
          const usedTokens =
            usage.inputTokens +
            usage.outputTokens +
            usage.cacheReadInputTokens +
            usage.cacheCreationInputTokens;
          const [settled, corrected] = await Promise.allSettled([
            ledger.settle(reservation, { usage, costNanoUsd }),
            rateLimiter.adjust(window, usedTokens - admittedTokens),
          ]);
          return {
            reservationId: reservation.id,
            overrunNanoUsd: Math.max(0, costNanoUsd - reservation.amountNanoUsd),
            ...(settled.status === 'rejected' && { ledgerError: settled.reason }),
            ...(corrected.status === 'rejected' && { rateWindowError: corrected.reason }),
          };
        },
        async release() {
          await Promise.all([
            ledger.release(reservation),
            rateLimiter.adjust(window, -admittedTokens),
          ]);
        },
      };
    },
  };
}
