import { ZERO_USAGE } from './usage.js';

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
  /**
   * Of a call sent upstream that is billed all it holds should its caller never settle it (its
   * function died mid-call), as the sweep reads it (see `UsageLedger.billIfAbandoned`). A chat
   * turn has none: its recovery bills what it had streamed.
   */
  ifAbandoned?: AbandonedCall;
}

/** What the usage report records of a call billed as abandoned. */
export interface AbandonedCall {
  api: 'messages' | 'jobs';
  model: string;
  /**
   * The id its caller records its usage under: should the caller only have stalled, its own
   * record replaces this one's. The reservation's id when absent.
   */
  requestId?: string;
  /** When the call was asked for: the month its usage is reported in. */
  startedAtMs: number;
}

/** What an abandoned call is billed: all it holds, the most it can have cost; its tokens unknown. */
export const abandonedCost = (reservation: Pick<Reservation, 'amountNanoUsd'>) => ({
  usage: ZERO_USAGE,
  costNanoUsd: reservation.amountNanoUsd,
});

/**
 * The largest monthly budget, in USD: held in nano-USD, it must stay an exact integer
 * (2^53 nano-USD is about $9,007,199).
 */
export const MAX_BUDGET_USD = 9_000_000;

/** The smallest budget but $0: one nano-dollar, the unit budgets are held in. */
export const MIN_BUDGET_USD = 1e-9;

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

/** The calendar month (UTC) after the one of `epochMs`, e.g. `2027-01` in December 2026. */
export function nextMonthOf(epochMs: number): string {
  const date = new Date(epochMs);
  return monthOf(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
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

/** What one shard of the deployment's month held (spent included) and spent, when read. */
export interface ShardReading {
  heldNanoUsd: number;
  spentNanoUsd: number;
}

/**
 * The most each shard of the deployment's month may hold (its cap: held + what is left),
 * set when the month starts and whenever the budget changes, from one reading of every
 * shard (`readings`, one per shard up to MAX_GLOBAL_BUDGET_SHARDS, those a larger budget
 * used before included). The caps of the `shards` in use are raised to one level, as even
 * as what they hold allows; the others keep what they hold and get no room. When what the
 * month holds fits the budget, the caps add up to the budget and none is below its shard's
 * holds; when it does not (a budget lowered below it), they add up to the budget counting
 * spend only, so that the room calls in flight give back when they settle never lets new
 * calls pass the budget.
 */
export function globalShardCaps(
  budgetNanoUsd: number,
  shards: number,
  readings: readonly ShardReading[],
): number[] {
  const beyond = readings.slice(shards).map((reading) => reading.heldNanoUsd);
  const inUse = readings.slice(0, shards);
  const room = budgetNanoUsd - sum(beyond);
  const held = inUse.map((reading) => reading.heldNanoUsd);
  const floors = sum(held) <= room ? held : inUse.map((reading) => reading.spentNanoUsd);
  return [...levelled(floors, room), ...beyond];
}

/**
 * `floors` raised to one level so that they add up to `total` (the remainder of the
 * division one nano-USD each on the first), or left as they are when they already pass it.
 */
function levelled(floors: readonly number[], total: number): number[] {
  const ascending = [...floors].sort((a, b) => a - b);
  for (let atLevel = floors.length; atLevel > 0; atLevel--) {
    const above = sum(ascending.slice(atLevel));
    const level = Math.floor((total - above) / atLevel);
    if (level < ascending[atLevel - 1]!) continue;
    let remainder = total - above - level * atLevel;
    return floors.map((floor) => {
      if (floor > level) return floor;
      const extra = remainder > 0 ? 1 : 0;
      remainder -= extra;
      return level + extra;
    });
  }
  return [...floors];
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** Seconds until the next minute starts: when a per-minute rate window reopens. */
export function secondsToNextMinute(epochMs: number): number {
  return Math.max(1, Math.ceil((60_000 - (epochMs % 60_000)) / 1000));
}
