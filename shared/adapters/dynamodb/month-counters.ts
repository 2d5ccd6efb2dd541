import { reservationIdExpiry } from '../../domain/ids.js';
import type { MonthUsage, Reservation } from '../../ports/usage-ledger.js';
import { apiKeyKeys, ledgerKeys } from './keys.js';

/**
 * How long after its expiry a hold no index entry lists is taken for its dead caller's:
 * the sweep, every minute, has long settled or released any that one lists, so the two
 * never take the same hold in different ways.
 */
const UNINDEXED_HOLD_GRACE_MS = 5 * 60_000;
/** What a user month's `budgetBasis` holds when it follows the user's own budget. */
export const OWN_BUDGET = 'own';
/** A month item's key on the single table. */
export type Key = { pk: string; sk: string };
/** What one item's hold tells of its reservation. */
export type Hold = Pick<Reservation, 'id' | 'amountNanoUsd' | 'expiresAtMs'>;
/** A month item a reservation holds money on, and the bound it holds within. */
export type Counter =
  /**
   * A user's month: its `availableNanoUsd` (budget − held) must cover the hold, and its
   * budget be the user's own or the default the reservation names.
   */
  | { kind: 'user'; key: Key; defaultBudgetNanoUsd?: number }
  /**
   * A shard of the deployment's month: its `availableNanoUsd` (its cap − held) must cover
   * the hold, and its caps be those of the budget the reservation names.
   */
  | { kind: 'global'; key: Key; budgetNanoUsd?: number }
  /** An API key's month: `heldNanoUsd` must stay within `limit`. */
  | { kind: 'key'; key: Key; limit?: number };

export function userCounter(reservation: Reservation, defaultBudgetNanoUsd?: number): Counter {
  return {
    kind: 'user',
    key: ledgerKeys.userMonth(reservation.userId, reservation.month),
    ...(defaultBudgetNanoUsd !== undefined && { defaultBudgetNanoUsd }),
  };
}

/** Whether a started user month follows the user's own budget or this default. */
export function followsBudget(
  item: Record<string, unknown>,
  defaultBudgetNanoUsd: number,
): boolean {
  const basis = item.budgetBasis;
  return basis === OWN_BUDGET || (basis !== undefined && Number(basis) === defaultBudgetNanoUsd);
}

export function globalCounter(reservation: Reservation, budgetNanoUsd?: number): Counter {
  return {
    kind: 'global',
    key: ledgerKeys.globalShard(reservation.month, reservation.shard),
    ...(budgetNanoUsd !== undefined && { budgetNanoUsd }),
  };
}

export function keyCounter(reservation: Reservation, limit?: number): Counter {
  return {
    kind: 'key',
    key: apiKeyKeys.month(reservation.keyId!, reservation.month),
    ...(limit !== undefined && { limit }),
  };
}

/** Whether the item keeps what is left under its bound (`availableNanoUsd`), which each write adjusts. */
export function keepsAvailable(counter: Counter): boolean {
  return counter.kind !== 'key';
}

/**
 * The counters a settle adds to, started at 0 by every hold. A month item can fill with
 * holds before any call on it settles (batch jobs hold for a day): had its first settle to
 * add these attributes, it would grow the full item, which DynamoDB refuses, and every
 * settle on it would fail alike. Present from the first hold, a settle only removes its
 * hold and adds to numbers, which leaves the item no larger.
 */
const SPEND_COUNTERS = [
  'spentNanoUsd',
  'requests',
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheCreationInputTokens',
] as const;
/** Records the hold and starts the counters a settle adds to. */
const SET_HOLD = `SET #hold = :amount, ${SPEND_COUNTERS.map((name) => `${name} = if_not_exists(${name}, :zero)`).join(', ')}`;

/** The update recording a hold of `amount` on a month item, if its bound allows. */
export function holdUpdate(counter: Counter, amount: number) {
  const taken = { ':amount': amount, ':taken': -amount, ':zero': 0 };
  // No arithmetic is allowed in conditions: what is left is kept, or the bound precomputed.
  switch (counter.kind) {
    case 'user':
      return {
        UpdateExpression: `${SET_HOLD} ADD availableNanoUsd :taken, heldNanoUsd :amount`,
        ConditionExpression:
          'attribute_not_exists(#hold) AND availableNanoUsd >= :amount AND budgetBasis IN (:default, :own)',
        ExpressionAttributeValues: {
          ...taken,
          ':default': counter.defaultBudgetNanoUsd,
          ':own': OWN_BUDGET,
        },
      };
    case 'global':
      return {
        UpdateExpression: `${SET_HOLD} ADD availableNanoUsd :taken, heldNanoUsd :amount`,
        ConditionExpression:
          'attribute_not_exists(#hold) AND availableNanoUsd >= :amount AND budgetBasis = :budget',
        ExpressionAttributeValues: { ...taken, ':budget': counter.budgetNanoUsd },
      };
    case 'key':
      return counter.limit === undefined
        ? {
            UpdateExpression: `${SET_HOLD} ADD heldNanoUsd :amount`,
            ConditionExpression: 'attribute_not_exists(#hold)',
            ExpressionAttributeValues: { ':amount': amount, ':zero': 0 },
          }
        : {
            UpdateExpression: `${SET_HOLD} ADD heldNanoUsd :amount`,
            ConditionExpression:
              'attribute_not_exists(#hold) AND (attribute_not_exists(heldNanoUsd) OR heldNanoUsd <= :max)',
            ExpressionAttributeValues: {
              ':amount': amount,
              ':zero': 0,
              ':max': counter.limit - amount,
            },
          };
  }
}

/** Every month item the reservation holds money on (the global shard once it is held). */
export function heldCounters(reservation: Reservation, withGlobal: boolean): Counter[] {
  return [
    userCounter(reservation),
    ...(reservation.keyId ? [keyCounter(reservation)] : []),
    ...(withGlobal ? [globalCounter(reservation)] : []),
  ];
}

/** The holds on a month item whose reservation expired over the grace ago, as their ids tell. */
export function expiredHolds(item: Record<string, unknown> | undefined, nowMs: number): Hold[] {
  return Object.entries(item ?? {}).flatMap(([name, amount]) => {
    const id = ledgerKeys.holdReservation(name);
    const expiresAtMs = id === undefined ? undefined : reservationIdExpiry(id);
    return id !== undefined &&
      expiresAtMs !== undefined &&
      expiresAtMs < nowMs - UNINDEXED_HOLD_GRACE_MS
      ? [{ id, amountNanoUsd: Number(amount), expiresAtMs }]
      : [];
  });
}

export function toMonthUsage(month: string, item: Record<string, unknown> | undefined): MonthUsage {
  const count = (name: string) => Number(item?.[name] ?? 0);
  return {
    month,
    requests: count('requests'),
    inputTokens: count('inputTokens'),
    outputTokens: count('outputTokens'),
    cacheReadInputTokens: count('cacheReadInputTokens'),
    cacheCreationInputTokens: count('cacheCreationInputTokens'),
    spentNanoUsd: count('spentNanoUsd'),
    heldNanoUsd: count('heldNanoUsd'),
  };
}
