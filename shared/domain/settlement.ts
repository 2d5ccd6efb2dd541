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
 * once whoever settles first: after a reclaim (or with no record at all), all of `actual`;
 * after a recovery, the caller adds what it used beyond the recovered figures, and the
 * recovery, finding its caller settled first, adds nothing (the caller's figures include
 * everything the recovery saw).
 */
export function lateSpend(
  actual: { usage: TokenUsage; costNanoUsd: number },
  taken: Settlement | undefined,
  settler: 'caller' | 'recovery',
): LateSpend {
  if (taken?.by !== 'recovery') return { requests: 1, ...actual };
  if (settler === 'recovery') return { requests: 0, usage: ZERO_USAGE, costNanoUsd: 0 };
  const beyond = (field: keyof TokenUsage) =>
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
