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

/** Notices an instance remembers as taken, at most: a bound on its memory, not on its notices. */
const MAX_KNOWN_NOTICES = 10_000;
/**
 * How long a notice another function claimed may still be given back: it publishes within its
 * invocation (15 minutes at the longest) and releases the notice if publishing fails.
 */
const CLAIMER_DONE_MS = 15 * 60_000;

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
  // The notices this instance knows are taken: a claim refused still costs a write unit, and
  // the sweep checks the same spenders every minute for the rest of the month.
  const taken = new Set<string>();
  return async ({ scope, month, spentNanoUsd, budgetUsd, subject }) => {
    const budgetNanoUsd = usdToNano(budgetUsd);
    // A budget of $0 refuses every call (how an operator stops a runaway principal): nothing
    // is crossed, and a notice sent now would be the month's, leaving out the real one once
    // a budget is set again.
    if (budgetNanoUsd <= 0) return;
    for (const percent of BUDGET_THRESHOLDS_PERCENT) {
      if (spentNanoUsd * 100 < budgetNanoUsd * percent) break;
      const notice = JSON.stringify([scope, month, percent]);
      if (taken.has(notice)) continue;
      if (taken.size >= MAX_KNOWN_NOTICES) taken.clear();
      const claim = await notices.claim(scope, month, percent);
      if (!claim.claimed) {
        // Known taken only once its claimer is surely done: else it may yet give it back.
        if (claim.claimedAtMs !== undefined && clock() - claim.claimedAtMs >= CLAIMER_DONE_MS) {
          taken.add(notice);
        }
        continue;
      }
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
      taken.add(notice);
    }
  };
}
