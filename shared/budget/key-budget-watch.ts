import { monthOf } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import type { ApiKeyStore } from '../ports/api-key-store.js';
import type { BudgetNotices } from '../ports/budget-notices.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import { createThresholdNotifier } from './threshold-notifier.js';

/**
 * Publishes the thresholds an API key's month-to-date spend has crossed against its own
 * budget, each once a month; nothing for a key without a budget. The event names the key
 * and its principal. The month is `yyyy-mm` (UTC), the current one when absent.
 */
export type KeyBudgetWatch = (keyId: string, month?: string) => Promise<void>;

export function createKeyBudgetWatch(deps: {
  apiKeys: Pick<ApiKeyStore, 'get'>;
  ledger: Pick<UsageLedger, 'keyMonth'>;
  notices: BudgetNotices;
  events: EventPublisher;
  clock: Clock;
}): KeyBudgetWatch {
  const { apiKeys, ledger, clock } = deps;
  const notify = createThresholdNotifier(deps);
  return async (keyId, month = monthOf(clock())) => {
    const key = await apiKeys.get(keyId);
    if (key?.monthlyBudgetUsd === undefined) return;
    const usage = await ledger.keyMonth(keyId, month);
    await notify({
      scope: { scope: 'key', keyId },
      month,
      spentNanoUsd: usage.spentNanoUsd,
      budgetUsd: key.monthlyBudgetUsd,
      subject: { userId: key.principal, keyId },
    });
  };
}
