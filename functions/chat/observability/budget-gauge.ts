import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { monthOf } from '../../../shared/domain/budget.js';
import { usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { UsageLedger } from '../../../shared/ports/usage-ledger.js';

const SAMPLE_EVERY_MS = 60_000;

/**
 * Emits month-to-date spend as a percentage of the global budget (the budget-burn
 * alarm watches it), at most once a minute per execution environment: it reads
 * every shard, which is cheap but not free.
 */
export function createBudgetGauge(ledger: UsageLedger, globalBudgetUsd: number) {
  let lastSampleMs = Number.NEGATIVE_INFINITY;
  return async (metrics: Metrics, nowMs: number): Promise<void> => {
    if (nowMs - lastSampleMs < SAMPLE_EVERY_MS) return;
    lastSampleMs = nowMs;
    const spent = await ledger.globalMonthSpendNanoUsd(monthOf(nowMs));
    metrics.addMetric(
      METRIC.globalBudgetUsedPercent,
      MetricUnit.Percent,
      (100 * spent) / usdToNano(globalBudgetUsd),
    );
  };
}
