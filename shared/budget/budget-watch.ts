import { monthOf } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import { nanoToUsd, usdToNano } from '../domain/pricing/model-price.js';
import { BUDGET_THRESHOLDS_PERCENT, type BudgetThresholdEvent } from '../events/producer-events.js';
import type { BudgetNotices, BudgetScope } from '../ports/budget-notices.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { UsageLedger } from '../ports/usage-ledger.js';

export interface BudgetWatch {
  /** Publishes the thresholds the principal's month-to-date spend has crossed, each once a month. */
  principal(userId: string): Promise<void>;
  /** The same for the deployment's spend against the global budget. */
  deployment(): Promise<void>;
}

/**
 * Budget threshold events (50, 80 and 100% of a monthly budget), each sent once per
 * scope and month: the notice is claimed in the table before it is published, and given
 * back if publishing fails, so that a later check sends it.
 */
export function createBudgetWatch(deps: {
  ledger: Pick<UsageLedger, 'userMonth' | 'userBudgetOverrideUsd' | 'globalMonthSpendNanoUsd'>;
  notices: BudgetNotices;
  events: EventPublisher;
  clock: Clock;
  limits: { userMonthlyBudgetUsd: number; globalMonthlyBudgetUsd: number };
}): BudgetWatch {
  const { ledger, notices, events, clock, limits } = deps;

  async function notify(
    scope: BudgetScope,
    month: string,
    spentNanoUsd: number,
    budgetUsd: number,
  ) {
    const budgetNanoUsd = usdToNano(budgetUsd);
    for (const percent of BUDGET_THRESHOLDS_PERCENT) {
      if (spentNanoUsd * 100 < budgetNanoUsd * percent) break;
      if (!(await notices.claim(scope, month, percent))) continue;
      const event: BudgetThresholdEvent = {
        version: 1,
        type: 'budget.threshold',
        at: new Date(clock()).toISOString(),
        scope: scope.scope,
        ...(scope.scope === 'principal' && { userId: scope.userId }),
        month,
        percent,
        spentUsd: nanoToUsd(spentNanoUsd),
        budgetUsd,
      };
      try {
        await events.publish(event);
      } catch (error) {
        await notices.release(scope, month, percent).catch(() => {});
        throw error;
      }
    }
  }

  return {
    async principal(userId) {
      const month = monthOf(clock());
      const [usage, override] = await Promise.all([
        ledger.userMonth(userId, month),
        ledger.userBudgetOverrideUsd(userId),
      ]);
      await notify(
        { scope: 'principal', userId },
        month,
        usage.spentNanoUsd,
        override ?? limits.userMonthlyBudgetUsd,
      );
    },
    async deployment() {
      const month = monthOf(clock());
      const spent = await ledger.globalMonthSpendNanoUsd(month);
      await notify({ scope: 'deployment' }, month, spent, limits.globalMonthlyBudgetUsd);
    },
  };
}
