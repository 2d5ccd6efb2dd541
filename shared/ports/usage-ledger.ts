import type { AbandonedCall, Reservation } from '../domain/budget.js';
import type { CountedSpend } from '../domain/settlement.js';
import type { TokenUsage } from '../domain/usage.js';

export type { AbandonedCall, CountedSpend, Reservation };

export interface MonthUsage extends TokenUsage {
  month: string;
  requests: number;
  spentNanoUsd: number;
  /** Spent plus currently reserved. */
  heldNanoUsd: number;
}

/** A reservation billed as abandoned (see `Reservation.ifAbandoned`). */
export type AbandonedReservation = Reservation & { ifAbandoned: AbandonedCall };

/**
 * Usage and budgets per user and for the deployment, per calendar month (UTC).
 * Reserve before a model call, settle after: spent never passes a budget, however
 * many calls run at once.
 */
export interface UsageLedger {
  /**
   * Holds `amountNanoUsd` against the user's, the global and the API key's monthly budgets, atomically.
   * @throws BudgetExceededError when it does not fit either
   */
  reserve(request: {
    /** Its id, as planned (see `plan`); a new one when absent. */
    id?: string;
    userId: string;
    amountNanoUsd: number;
    /**
     * Each user's monthly budget unless an operator set their own (which the ledger keeps):
     * a month under way follows a changed default from its next reservation on.
     */
    userDefaultBudgetNanoUsd: number;
    globalBudgetNanoUsd: number;
    nowMs: number;
    /** When an unsettled reservation (its caller crashed) may be reclaimed. */
    expiresAtMs: number;
    holder?: string;
    /** The API key the call comes with: its month is held too, within its budget when it has one. */
    apiKey?: { id: string; budgetNanoUsd?: number };
  }): Promise<Reservation>;
  /**
   * The reservation `reserve` will make for the same request (the same `id`), known before
   * it is made, so a caller can record it alongside. Only its shard may differ once made.
   */
  plan(
    request: Omit<
      Parameters<UsageLedger['reserve']>[0],
      'userDefaultBudgetNanoUsd' | 'globalBudgetNanoUsd'
    >,
  ): Reservation;
  /**
   * Records the actual cost and usage, and releases the rest of the reservation. A call
   * is counted once however its settles race: its caller's, and a recovery's (`recovered`:
   * the caller was taken for dead and settled at what it had streamed), a settle after
   * the reservation was reclaimed, or one sent again after its answer was lost. The
   * caller's figures win (see `lateSpend`).
   * @returns what of the call this settle counts in the deployment's month, for the spend
   *   metrics (`CostUsd`, the token counts), so that each settler publishing what it gets
   *   sums to the deployment's spend however the settles race: `actual` when it took the
   *   hold, after a reclaim, or when the hold went with its own attempt whose answer was lost;
   *   a caller's figures beyond a recovery's, or a sweep's settling to the figures stored with
   *   its answer, that came first; nothing for a recovery that finds its call settled (see
   *   `countedSpend`)
   * @throws SettleIncompleteError when a write failed, with what it counted all the same (the
   *   sweep settles the rest once the reservation expires, and publishes what it counts)
   */
  settle(
    reservation: Reservation,
    actual: { usage: TokenUsage; costNanoUsd: number },
    options?: { recovered?: boolean },
  ): Promise<CountedSpend>;
  /**
   * The call was sent (or accepted) upstream: should its caller never settle nor release it
   * (its function died mid-call), the sweep bills it all it holds, which is the most it can have
   * cost, for Claude bills what it generated, which nobody saw. Never rejects: a write that
   * fails leaves the call to be given back unbilled. A caller need not wait for it, but for
   * the end of its invocation: its settle or release does.
   */
  billIfAbandoned(reservation: Reservation, call: AbandonedCall): Promise<void>;
  /** Gives a reservation back unused: the call was never made, or refused. */
  release(reservation: Reservation): Promise<void>;
  /**
   * Returns expired reservations' holds to their budgets, or settles them to the figures
   * known for them (an answer stored, a settle that failed on some item, a recovery's), or
   * to all they hold for a call abandoned (`ifAbandoned`).
   * @param options.sparing holders whose reservations are left alone, unless figures to
   *   settle them to are known: turns whose lease still runs, which their recovery settles
   * @param options.onCounted told what each settle to known figures counts in the
   *   deployment's month, as `settle` returns it, for the spend metrics: nobody else publishes
   *   it (a caller settling late counts only what it used beyond those figures)
   * @param options.onAbandoned told each call billed as abandoned, for the usage report, by a
   *   settle that took one of its holds (again by a later sweep that finishes a settle failed
   *   on some item: the record is the same)
   * @returns how many were reclaimed
   */
  reclaimExpired(
    nowMs: number,
    options?: {
      sparing?: ReadonlySet<string>;
      onCounted?: (counted: CountedSpend) => void;
      onAbandoned?: (call: AbandonedReservation) => void;
    },
  ): Promise<number>;
  /** Every reservation not yet settled, released or reclaimed. */
  listReservations(): Promise<Reservation[]>;
  userMonth(userId: string, month: string): Promise<MonthUsage>;
  /** What an API key spent and holds in the month. */
  keyMonth(keyId: string, month: string): Promise<MonthUsage>;
  /** Month-to-date spend of the whole deployment, summed over its shards. */
  globalMonthSpendNanoUsd(month: string): Promise<number>;
  /** The user's own monthly budget, when an operator set one. */
  userBudgetOverrideUsd(userId: string): Promise<number | undefined>;
  /** Sets the user's own monthly budget: from the month under way (`nowMs`) on. */
  setUserBudgetOverride(userId: string, budgetUsd: number, nowMs: number): Promise<void>;
}
