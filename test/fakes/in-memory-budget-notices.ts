import type { Clock } from '../../shared/domain/clock.js';
import type { BudgetNotices, BudgetScope, NoticeClaim } from '../../shared/ports/budget-notices.js';

/** The BudgetNotices port in memory: the claimed notices, each with when it was claimed. */
export class InMemoryBudgetNotices implements BudgetNotices {
  private readonly claimed = new Map<string, number>();

  constructor(private readonly clock: Clock = Date.now) {}

  async claim(scope: BudgetScope, month: string, percent: number): Promise<NoticeClaim> {
    const key = keyOf(scope, month, percent);
    const claimedAtMs = this.claimed.get(key);
    if (claimedAtMs !== undefined) return { claimed: false, claimedAtMs };
    this.claimed.set(key, this.clock());
    return { claimed: true };
  }

  async release(scope: BudgetScope, month: string, percent: number): Promise<void> {
    this.claimed.delete(keyOf(scope, month, percent));
  }
}

const keyOf = (scope: BudgetScope, month: string, percent: number) =>
  `${scopeKey(scope)}\u0000${month}\u0000${percent}`;

function scopeKey(scope: BudgetScope): string {
  if (scope.scope === 'principal') return `principal\u0000${scope.userId}`;
  if (scope.scope === 'key') return `key\u0000${scope.keyId}`;
  return 'deployment';
}
