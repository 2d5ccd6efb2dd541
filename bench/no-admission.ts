import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import type { UsageLedger } from '../shared/ports/usage-ledger.js';

/** A ledger that admits everything and records nothing: the baseline without budget checks. */
export function noBudget(ledger: UsageLedger): UsageLedger {
  const reservation = {
    id: 'none',
    userId: '',
    month: '',
    shard: 0,
    amountNanoUsd: 0,
    expiresAtMs: 0,
  };
  return {
    reserve: async () => reservation,
    plan: () => reservation,
    settle: async (_, actual) => actual,
    billIfAbandoned: async () => {},
    release: async () => {},
    reclaimExpired: async () => 0,
    listReservations: async () => [],
    userMonth: (userId, month) => ledger.userMonth(userId, month),
    keyMonth: (keyId, month) => ledger.keyMonth(keyId, month),
    globalMonthSpendNanoUsd: async () => 0,
    userBudgetOverrideUsd: async () => undefined,
    setUserBudgetOverride: async () => {},
  };
}

export const noRateLimit: RateLimiter = {
  admit: async ({ subject, limits, tokens, nowMs }) => ({
    subject,
    limits,
    tokens,
    requests: 1,
    windowStartMs: nowMs,
  }),
  adjust: async () => {},
  withdraw: async () => {},
};
