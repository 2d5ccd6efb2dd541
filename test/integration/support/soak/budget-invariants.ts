import { deploymentSpentOf } from './ledger-invariants.js';
import type { UsageAtRaise } from './limit-changes.js';
import type { Item } from './table-scan.js';

/** The largest budget each ledger had during the run, in USD, by its item's `pk`. */
export interface SoakBudgets {
  /** `USER#<principal>` or `APIKEY#<id>`, for those with a budget of their own. */
  byLedger: ReadonlyMap<string, number>;
  userDefaultUsd: number;
  globalUsd: number;
}

const NANO_PER_USD = 1e9;

/**
 * Every budget held: no principal, key or the deployment spent more than the largest budget it
 * had this run, but by the overruns published (an answer costing more than its worst case, the
 * one overshoot the README allows); nor had a ledger whose budget was raised used more than its
 * old budget when it was raised.
 */
export function budgetsHeld(
  items: Item[],
  month: string,
  budgets: SoakBudgets,
  published: Array<Record<string, unknown>>,
  raised: readonly UsageAtRaise[],
): string[] {
  const overrunUsd = published
    .flatMap((line) => [line.BudgetOverrunUsd ?? []].flat().map(Number))
    .reduce((a, b) => a + b, 0);
  const allowedNano = (budgetUsd: number) => Math.round((budgetUsd + overrunUsd) * NANO_PER_USD);
  const report: string[] = [];
  for (const item of items.filter((i) => i.sk === `USAGE#${month}`)) {
    const pk = String(item.pk);
    const budgetUsd =
      budgets.byLedger.get(pk) ?? (pk.startsWith('USER#') ? budgets.userDefaultUsd : undefined);
    const spent = Number(item.spentNanoUsd ?? 0);
    if (budgetUsd !== undefined && spent > allowedNano(budgetUsd)) {
      report.push(`${pk} spent ${spent / NANO_PER_USD} USD over its budget of ${budgetUsd}`);
    }
  }
  const deploymentSpent = deploymentSpentOf(items, month);
  if (deploymentSpent > allowedNano(budgets.globalUsd)) {
    report.push(`the deployment spent ${deploymentSpent / NANO_PER_USD} over ${budgets.globalUsd}`);
  }
  for (const r of raised) {
    if (Math.round(r.usedUsd * NANO_PER_USD) > allowedNano(r.budgetUsd)) {
      report.push(`${r.ledger} had used ${r.usedUsd} under a budget of ${r.budgetUsd}`);
    }
  }
  return report;
}
