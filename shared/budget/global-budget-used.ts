import { monthOf } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import { usdToNano } from '../domain/pricing/model-price.js';
import type { UsageLedger } from '../ports/usage-ledger.js';

/** Month-to-date spend of the deployment as a percentage of its global budget. */
export type GlobalBudgetUsed = () => Promise<number>;

/**
 * Reads the deployment's month-to-date spend, over every shard, as a percentage of the global
 * monthly budget: what the budget-burn alarm watches, published by the maintenance sweep each
 * minute, so that spend by jobs alone, or a quiet night, is seen as it stands.
 */
export function createGlobalBudgetUsed(deps: {
  ledger: Pick<UsageLedger, 'globalMonthSpendNanoUsd'>;
  clock: Clock;
  globalMonthlyBudgetUsd: number;
}): GlobalBudgetUsed {
  return async () => {
    const spent = await deps.ledger.globalMonthSpendNanoUsd(monthOf(deps.clock()));
    return (100 * spent) / usdToNano(deps.globalMonthlyBudgetUsd);
  };
}
