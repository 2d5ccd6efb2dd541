import type { BudgetNotices, BudgetScope } from '../../shared/ports/budget-notices.js';

/** The BudgetNotices port in memory: a set of claimed notices. */
export class InMemoryBudgetNotices implements BudgetNotices {
  private readonly claimed = new Set<string>();

  async claim(scope: BudgetScope, month: string, percent: number): Promise<boolean> {
    const key = keyOf(scope, month, percent);
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
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
