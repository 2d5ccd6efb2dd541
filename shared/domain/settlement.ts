import { type TokenUsage, ZERO_USAGE } from './usage.js';

/**
 * Who took a reservation's hold from its caller, recorded before taking it: a recovery
 * (the caller was taken for dead, and what it had streamed was settled) or a reclaim (the
 * reservation expired, and the hold was given back with nothing recorded).
 */
export type Settlement =
  | { by: 'recovery'; usage: TokenUsage; costNanoUsd: number }
  | { by: 'reclaim' };

/** What a settle adds to a month whose hold for the reservation was already taken. */
export interface LateSpend {
  requests: number;
  usage: TokenUsage;
  costNanoUsd: number;
}

/**
 * A settle that finds the hold gone adds only what nobody recorded, so a call is counted
 * once whoever settles first: after a reclaim, all of `actual`; after a recovery, the
 * caller adds what it used beyond the recovered figures, and the recovery adds nothing.
 * For the recovery found its hold where the reservation's index entry says it is (on the
 * shard it moved to), and a reclaim that finds the recovery's record settles the holds it
 * takes to the recovery's figures: so the hold was gone because its caller settled it,
 * whose figures include everything the recovery saw. `taken` is the record only where its
 * party took this item's hold (which the record's item marks prove, see the adapter): with
 * none, nobody else took it, so this settle did, in an earlier attempt whose answer was
 * lost and which the SDK retried (for a sweep settling to the caller's figures, the caller
 * did), and there is nothing left to add.
 */
export function lateSpend(
  actual: { usage: TokenUsage; costNanoUsd: number },
  taken: Settlement | undefined,
  settler: 'caller' | 'recovery',
): LateSpend {
  const nothing = { requests: 0, usage: ZERO_USAGE, costNanoUsd: 0 };
  if (taken === undefined) return nothing;
  if (taken.by === 'reclaim') return { requests: 1, ...actual };
  if (settler === 'recovery') return nothing;
  const beyond = (field: keyof Omit<TokenUsage, 'inferenceGeo'>) =>
    Math.max(0, (actual.usage[field] ?? 0) - (taken.usage[field] ?? 0));
  return {
    requests: 0,
    costNanoUsd: Math.max(0, actual.costNanoUsd - taken.costNanoUsd),
    usage: {
      inputTokens: beyond('inputTokens'),
      outputTokens: beyond('outputTokens'),
      cacheReadInputTokens: beyond('cacheReadInputTokens'),
      cacheCreationInputTokens: beyond('cacheCreationInputTokens'),
    },
  };
}

/** A late spend that adds nothing: no write needed. */
export const isNoSpend = (spend: LateSpend): boolean =>
  spend.requests === 0 &&
  spend.costNanoUsd === 0 &&
  Object.values(spend.usage).every((tokens) => tokens === 0);

/** What of a call's spend one settle counts in the deployment's month: what its settler publishes. */
export type CountedSpend = { usage: TokenUsage; costNanoUsd: number };

export const NOTHING_COUNTED: CountedSpend = { usage: ZERO_USAGE, costNanoUsd: 0 };

/**
 * Who settles: the call's caller, a recovery of its dead turn, or the sweep settling to the
 * figures an expired reservation's index entry keeps (an answer stored, or a settle that
 * failed on some item), recorded first as a recovery's.
 */
export type Settler = 'caller' | 'recovery' | 'sweep';

/**
 * What a settle that found the hold gone counts: what it adds (`lateSpend`), or, for a
 * caller whose hold nobody else took (its own attempt whose answer was lost took it), its
 * own figures: nobody else counts them. A recovery that finds the call settled counts
 * nothing: the caller did. The sweep counts only what it adds, as the caller's figures
 * (which it settles to): a hold gone with no record of its party went with a settle that
 * counted it.
 */
export function countedSpend(
  actual: CountedSpend,
  taken: Settlement | undefined,
  settler: Settler,
): CountedSpend {
  if (taken === undefined && settler === 'caller') return actual;
  const { usage, costNanoUsd } = lateSpend(actual, taken, settler === 'sweep' ? 'caller' : settler);
  return { usage, costNanoUsd };
}

/**
 * A settle that failed on some month item (after the SDK's retries): what it counted in
 * the deployment's month all the same (nothing, should that item be the one that failed),
 * which its settler publishes; the sweep settles the rest later and publishes what it counts.
 */
export class SettleIncompleteError extends Error {
  override readonly name = 'SettleIncompleteError';
  constructor(
    readonly counted: CountedSpend,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** What a settle counted in the deployment's month, whether it succeeded or not. */
export function countedBy(settled: PromiseSettledResult<CountedSpend>): CountedSpend {
  if (settled.status === 'fulfilled') return settled.value;
  return settled.reason instanceof SettleIncompleteError ? settled.reason.counted : NOTHING_COUNTED;
}
