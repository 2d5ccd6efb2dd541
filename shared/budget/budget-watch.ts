import { monthOf } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import type { BudgetNotices } from '../ports/budget-notices.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import { createThresholdNotifier } from './threshold-notifier.js';

export interface BudgetWatch {
  /**
   * Publishes the thresholds the principal's month-to-date spend has crossed, each once a month.
   * @param month `yyyy-mm` (UTC); the current month when absent
   */
  principal(userId: string, month?: string): Promise<void>;
  /** The same for the deployment's spend against the global budget. */
  deployment(month?: string): Promise<void>;
}

/** Budget threshold events for principals and the deployment (see createThresholdNotifier). */
export function createBudgetWatch(deps: {
  ledger: Pick<UsageLedger, 'userMonth' | 'userBudgetOverrideUsd' | 'globalMonthSpendNanoUsd'>;
  notices: BudgetNotices;
  events: EventPublisher;
  clock: Clock;
  limits: { userMonthlyBudgetUsd: number; globalMonthlyBudgetUsd: number };
}): BudgetWatch {
  const { ledger, clock, limits } = deps;
  const notify = createThresholdNotifier(deps);
  return {
    async principal(userId, month = monthOf(clock())) {
      const [usage, override] = await Promise.all([
        ledger.userMonth(userId, month),
        ledger.userBudgetOverrideUsd(userId),
      ]);
      await notify({
        scope: { scope: 'principal', userId },
        month,
        spentNanoUsd: usage.spentNanoUsd,
        budgetUsd: override ?? limits.userMonthlyBudgetUsd,
        subject: { userId },
      });
    },
    async deployment(month = monthOf(clock())) {
      const spentNanoUsd = await ledger.globalMonthSpendNanoUsd(month);
      await notify({
        scope: { scope: 'deployment' },
        month,
        spentNanoUsd,
        budgetUsd: limits.globalMonthlyBudgetUsd,
      });
    },
  };
}
