import type { Clock } from '../domain/clock.js';
import { nanoToUsd, usdToNano } from '../domain/pricing/model-price.js';
import { BUDGET_THRESHOLDS_PERCENT, type BudgetThresholdEvent } from '../events/producer-events.js';
import type { BudgetNotices, BudgetScope } from '../ports/budget-notices.js';
import type { EventPublisher } from '../ports/event-publisher.js';

/** Publishes each threshold a scope's month-to-date spend has crossed, once a month. */
export type NotifyThresholds = (spend: {
  scope: BudgetScope;
  month: string;
  spentNanoUsd: number;
  budgetUsd: number;
  /** Who the event names: the principal, and the key for a key's budget. */
  subject?: Pick<BudgetThresholdEvent, 'userId' | 'keyId'>;
}) => Promise<void>;

/**
 * Budget threshold events (50, 80 and 100% of a monthly budget), each sent once per
 * scope and month: the notice is claimed in the table before it is published, and given
 * back if publishing fails, so that a later check sends it.
 */
export function createThresholdNotifier(deps: {
  notices: BudgetNotices;
  events: EventPublisher;
  clock: Clock;
}): NotifyThresholds {
  const { notices, events, clock } = deps;
  return async ({ scope, month, spentNanoUsd, budgetUsd, subject }) => {
    const budgetNanoUsd = usdToNano(budgetUsd);
    for (const percent of BUDGET_THRESHOLDS_PERCENT) {
      if (spentNanoUsd * 100 < budgetNanoUsd * percent) break;
      if (!(await notices.claim(scope, month, percent))) continue;
      const event: BudgetThresholdEvent = {
        version: 1,
        type: 'budget.threshold',
        at: new Date(clock()).toISOString(),
        scope: scope.scope,
        ...subject,
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
  };
}
