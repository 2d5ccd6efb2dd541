import { monthOf } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import type { UsageRecords } from '../ports/usage-records.js';
import type { BudgetWatch } from './budget-watch.js';
import type { KeyBudgetWatch } from './key-budget-watch.js';

/**
 * How long after a month ends calls may still settle into it: a call is billed to the month
 * it was reserved in, and a job's batch holds its reservation for 25 hours.
 */
export const LATE_SETTLE_MS = 2 * 24 * 3600_000;

/**
 * The months whose budgets a sweep checks: the current one and, while its calls may still
 * settle, the one before. Spend landing in the last minute of a month, or settled after it
 * ended, crosses that month's thresholds, which a check of the current month alone never sees.
 */
export function monthsToWatch(nowMs: number): string[] {
  const now = new Date(nowMs);
  const monthStartMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  return nowMs - monthStartMs < LATE_SETTLE_MS
    ? [monthOf(monthStartMs - 1), monthOf(nowMs)]
    : [monthOf(nowMs)];
}

/**
 * Checks the budgets of the deployment and of each month's biggest spenders (principals and
 * API keys, at most `top` of each, by the usage report), for every month `monthsToWatch` names.
 */
export function createMonthBudgetsSweep(deps: {
  budgetWatch: BudgetWatch;
  keyBudgetWatch: KeyBudgetWatch;
  usageRecords: Pick<UsageRecords, 'report'>;
  clock: Clock;
  top: number;
}): () => Promise<void> {
  const { budgetWatch, keyBudgetWatch, usageRecords, clock, top } = deps;
  return async () => {
    for (const month of monthsToWatch(clock())) {
      await budgetWatch.deployment(month);
      const report = await usageRecords.report(month, { top });
      for (const { name } of report.byPrincipal) await budgetWatch.principal(name, month);
      for (const { name } of report.byKey) await keyBudgetWatch(name, month);
    }
  };
}
