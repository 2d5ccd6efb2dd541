/** Money held for one model call until it settles. */
export interface Reservation {
  id: string;
  userId: string;
  month: string;
  shard: number;
  amountNanoUsd: number;
  /** After this, a reservation never settled (its caller crashed) may be reclaimed. */
  expiresAtMs: number;
  /** Who holds it, for a sweeper to find the turn behind a reservation. */
  holder?: string;
  /** The API key whose month the reservation also holds. */
  keyId?: string;
}

/**
 * The largest monthly budget, in USD: held in nano-USD, it must stay an exact integer
 * (2^53 nano-USD is about $9,007,199).
 */
export const MAX_BUDGET_USD = 9_000_000;

/**
 * What a reservation may hold: a whole, non-negative number of nano-USD. Anything else
 * (a negative worst case would add to what is left) is a bug of the caller's.
 * @throws RangeError
 */
export function holdableAmount(nanoUsd: number): number {
  if (!Number.isSafeInteger(nanoUsd) || nanoUsd < 0) {
    throw new RangeError(
      `a reservation holds a whole, non-negative nano-USD amount, not ${nanoUsd}`,
    );
  }
  return nanoUsd;
}

/** Calendar month in UTC, e.g. `2026-11`: the budget and usage period. */
export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** Each global-budget shard holds at least this much, so reservations rarely fragment. */
const MIN_USD_PER_SHARD = 10;
/** The most shards a deployment's budget is ever split into, whatever it was set to. */
export const MAX_GLOBAL_BUDGET_SHARDS = 16;

/**
 * How many partitions the global monthly budget is split into. Each shard is an
 * independent quota of `budget / shards`, reserved atomically, so the deployment-wide
 * counter never becomes one hot key; small budgets stay in one shard and stay exact.
 */
export function globalBudgetShards(globalBudgetUsd: number): number {
  return Math.max(
    1,
    Math.min(MAX_GLOBAL_BUDGET_SHARDS, Math.floor(globalBudgetUsd / MIN_USD_PER_SHARD)),
  );
}

/** Seconds until the next minute starts: when a per-minute rate window reopens. */
export function secondsToNextMinute(epochMs: number): number {
  return Math.max(1, Math.ceil((60_000 - (epochMs % 60_000)) / 1000));
}
