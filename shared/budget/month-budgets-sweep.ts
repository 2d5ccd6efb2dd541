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

/** Budget checks in flight at once: each is a round trip or two, and a run checks up to 4,000. */
const CHECKS_AT_ONCE = 16;

/**
 * Checks the budgets of the deployment and of each month's biggest spenders (principals and
 * API keys, at most `top` of each, by the usage report), for every month `monthsToWatch` names,
 * several at once, the biggest first; none is started once `hasTime` says no. The first
 * failure is thrown once the others are done.
 * @returns how many spenders' checks were left for the next run
 */
export function createMonthBudgetsSweep(deps: {
  budgetWatch: BudgetWatch;
  keyBudgetWatch: KeyBudgetWatch;
  usageRecords: Pick<UsageRecords, 'report'>;
  clock: Clock;
  top: number;
}): (options?: { hasTime?: () => boolean }) => Promise<number> {
  const { budgetWatch, keyBudgetWatch, usageRecords, clock, top } = deps;
  return async ({ hasTime = () => true } = {}) => {
    // One that fails (its event not published, a month's report unread) leaves the others to
    // go on: thrown at the end.
    const failures: unknown[] = [];
    const failed = (error: unknown) => {
      failures.push(error);
    };
    const checks: Array<() => Promise<void>> = [];
    for (const month of monthsToWatch(clock())) {
      await budgetWatch.deployment(month).catch(failed);
      const report = await usageRecords.report(month, { top }).catch(failed);
      if (!report) continue;
      for (const { name } of report.byPrincipal) {
        checks.push(() => budgetWatch.principal(name, month));
      }
      for (const { name } of report.byKey) checks.push(() => keyBudgetWatch(name, month));
    }
    let next = 0;
    const checker = async () => {
      while (next < checks.length && hasTime()) {
        await checks[next++]!().catch(failed);
      }
    };
    await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, checker));
    if (failures.length > 0) throw failures[0];
    return checks.length - next;
  };
}
