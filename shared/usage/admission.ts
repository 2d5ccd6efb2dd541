import { NO_LIMIT } from '../domain/rate-limits.js';
import { type CountedSpend, countedBy } from '../domain/settlement.js';
import type { TokenUsage } from '../domain/usage.js';
import type { RateLimiter, RateLimits, RateSubject, RateWindow } from '../ports/rate-limiter.js';
import type { AbandonedCall, Reservation, UsageLedger } from '../ports/usage-ledger.js';
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
  /** The windows the call was counted in: the user's, and its API key's when it has limits. */
  readonly rateWindows: readonly RateWindow[];
  /** The call was sent: see `UsageLedger.billIfAbandoned`. */
  billIfAbandoned(call: AbandonedCall): Promise<void>;
  /** Records the actual cost and usage; gives back the rest of the hold. */
  settle(actual: { usage: TokenUsage; costNanoUsd: number }): Promise<SettleOutcome>;
  /**
   * Gives everything back: the call was never made. Never throws, so the caller tells what it
   * has to tell: what could not be given back is reported (see `onLeftHeld`).
   */
  release(): Promise<void>;
}

/** Settling never fails the call: what could not be recorded is reported. */
export interface SettleOutcome {
  /** What the call cost beyond the worst case reserved for it (0 when it fit). */
  overrunNanoUsd: number;
  /** The spend is missing from the ledger (the reservation still holds the worst case). */
  ledgerError?: unknown;
  /**
   * What the spend metrics publish: what the ledger counts for this settle (see
   * `UsageLedger.settle`), only what was used beyond a recovery that settled the call first;
   * when the settle failed, what it counted all the same (the sweep that settles the rest
   * publishes what it counts).
   */
  counted: CountedSpend;
  rateWindowError?: unknown;
  reservationId: string;
}

export interface Admission {
  /**
   * Rate limits and budgets, checked together: the worst-case cost of the call is
   * reserved up front, so the budget holds however many calls run at once.
   * @throws RateLimitedError or BudgetExceededError; nothing stays held then (but what
   *   could not be given back: see `onLeftHeld`)
   */
  admit(request: AdmissionRequest, planned?: Reservation): Promise<Admitted>;
  /**
   * The reservation `admit` will hold for this request, known before admitting it: a turn
   * stores it with its question while admission runs.
   */
  plan(request: AdmissionRequest): Reservation;
  /**
   * Counts a free request (no model call: counting tokens, say) in the rate windows only.
   * @throws RateLimitedError
   */
  countFreeRequest(
    request: Pick<AdmissionRequest, 'userId' | 'apiKey' | 'nowMs'>,
  ): Promise<readonly RateWindow[]>;
  /**
   * Refuses the request exactly as `admit` would, and holds and counts nothing: for an answer
   * that costs nothing and asks nothing of Claude (a response-cache replay), which a caller
   * refused calls (a budget spent or set to 0, a rate limit reached) must not get either.
   * What a failed release leaves is the next sweep's to take back (see `onLeftHeld`).
   * @returns the windows the request would count in, as they stand without it (for the
   *   rate-limit headers a replay answers with, as a call's)
   * @throws RateLimitedError or BudgetExceededError
   */
  check(request: AdmissionRequest): Promise<readonly RateWindow[]>;
}

export function createAdmission(deps: {
  budget: BudgetReserver;
  ledger: Pick<UsageLedger, 'settle' | 'release' | 'billIfAbandoned'>;
  rateLimiter: RateLimiter;
  /** Each user's rates. */
  userRateLimits: RateLimits;
  /**
   * What a released, refused or checked request held could not be given back: the hold
   * expires (at the call's deadline; a check's at once) and the sweep takes it back, a rate
   * window's count ends with its minute. Reported, not thrown, so the caller still gets what
   * it was to get: a refusal (a 402 or 429), a replay, the model's failure, a conflict.
   */
  onLeftHeld: (error: unknown) => void;
}): Admission {
  const { budget, ledger, rateLimiter, userRateLimits, onLeftHeld } = deps;
  const giveBack = async (held: ReadonlyArray<Promise<void> | false>) => {
    for (const outcome of await Promise.allSettled(held)) {
      if (outcome.status === 'rejected') onLeftHeld(outcome.reason);
    }
  };
  /** The windows a request counts in: its user's, and its API key's when the key has limits. */
  const subjectsOf = (request: Pick<AdmissionRequest, 'userId' | 'apiKey'>) => {
    const subjects: Array<{ subject: RateSubject; limits: RateLimits }> = [
      { subject: `user:${request.userId}`, limits: userRateLimits },
    ];
    const keyLimits = request.apiKey && apiKeyRateLimits(request.apiKey);
    if (request.apiKey && keyLimits) {
      subjects.push({ subject: `key:${request.apiKey.id}`, limits: keyLimits });
    }
    return subjects;
  };
  const admission: Admission = {
    async countFreeRequest(request) {
      const windows = await Promise.allSettled(
        subjectsOf(request).map(({ subject, limits }) =>
          rateLimiter.admit({ subject, limits, tokens: 0, nowMs: request.nowMs }),
        ),
      );
      const counted = windows.flatMap((window) =>
        window.status === 'fulfilled' ? [window.value] : [],
      );
      const refusal = windows.find((window) => window.status === 'rejected');
      if (refusal) {
        // Refused by one window, the request uses none of the other's.
        await giveBack(counted.map((window) => rateLimiter.withdraw(window, 0)));
        throw (refusal as PromiseRejectedResult).reason;
      }
      return counted;
    },
    plan: (request) => budget.plan(request),
    async admit(request, planned) {
      const admittedTokens = request.promptTokens + request.maxOutputTokens;
      const [reserved, ...windows] = await Promise.allSettled([
        budget.reserve(request, planned),
        ...subjectsOf(request).map(({ subject, limits }) =>
          rateLimiter.admit({ subject, limits, tokens: admittedTokens, nowMs: request.nowMs }),
        ),
      ]);
      const counted = windows.flatMap((window) =>
        window.status === 'fulfilled' ? [window.value] : [],
      );
      const refusal = [...windows, reserved].find((outcome) => outcome.status === 'rejected');
      if (refusal) {
        await giveBack([
          reserved.status === 'fulfilled' && ledger.release(reserved.value as Reservation),
          ...counted.map((window) => rateLimiter.withdraw(window, admittedTokens)),
        ]);
        throw (refusal as PromiseRejectedResult).reason;
      }
      const reservation = (reserved as PromiseFulfilledResult<Reservation>).value;
      return {
        reservation,
        reservedNanoUsd: reservation.amountNanoUsd,
        rateWindows: counted,
        billIfAbandoned: (call) => ledger.billIfAbandoned(reservation, call),
        async settle({ usage, costNanoUsd }) {
          const usedTokens =
            usage.inputTokens +
            usage.outputTokens +
            usage.cacheReadInputTokens +
            usage.cacheCreationInputTokens;
          const [settled, ...corrected] = await Promise.allSettled([
            ledger.settle(reservation, { usage, costNanoUsd }),
            ...counted.map((window) => rateLimiter.adjust(window, usedTokens - admittedTokens)),
          ]);
          const rateWindowError = corrected.find((outcome) => outcome.status === 'rejected');
          return {
            reservationId: reservation.id,
            overrunNanoUsd: Math.max(0, costNanoUsd - reservation.amountNanoUsd),
            counted: countedBy(settled),
            ...(settled.status === 'rejected' && { ledgerError: settled.reason }),
            ...(rateWindowError && {
              rateWindowError: (rateWindowError as PromiseRejectedResult).reason,
            }),
          };
        },
        async release() {
          await giveBack([
            ledger.release(reservation),
            ...counted.map((window) => rateLimiter.withdraw(window, admittedTokens)),
          ]);
        },
      };
    },
    async check(request) {
      // Admitted as a call, and given back at once: the same refusals, by construction. Its
      // hold expires as it is made, and names no turn: should its release fail, or the
      // function die first, the next sweep takes it back (not the call's deadline).
      const { holder: _turn, ...call } = request;
      const admitted = await admission.admit({ ...call, expiresAtMs: request.nowMs });
      await admitted.release();
      const admittedTokens = request.promptTokens + request.maxOutputTokens;
      return admitted.rateWindows.map((window) => ({
        ...window,
        requests: window.requests - 1,
        tokens: window.tokens - admittedTokens,
      }));
    },
  };
  return admission;
}

/** A key's own rates, when it has any: a limit it leaves unset does not bind. */
function apiKeyRateLimits(key: NonNullable<AdmissionRequest['apiKey']>): RateLimits | undefined {
  if (key.requestsPerMinute === undefined && key.tokensPerMinute === undefined) return undefined;
  return {
    requestsPerMinute: key.requestsPerMinute ?? NO_LIMIT,
    tokensPerMinute: key.tokensPerMinute ?? NO_LIMIT,
  };
}
