import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { monthOf } from '../../../shared/domain/budget.js';
import type { Clock } from '../../../shared/domain/clock.js';
import { usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { UsageLedger } from '../../../shared/ports/usage-ledger.js';

const SAMPLE_EVERY_MS = 60_000;

export interface BudgetGauge {
  /** Adds the global spend metric, if this environment has not sampled it lately. */
  sample(metrics: Metrics): Promise<void>;
}

/**
 * Emits month-to-date spend as a percentage of the global budget (the budget-burn
 * alarm watches it), at most once a minute per execution environment: it reads
 * every shard, which is cheap but not free.
 */
export function createBudgetGauge(deps: {
  ledger: Pick<UsageLedger, 'globalMonthSpendNanoUsd'>;
  clock: Clock;
  globalMonthlyBudgetUsd: number;
}): BudgetGauge {
  let lastSampleMs = Number.NEGATIVE_INFINITY;
  return {
    async sample(metrics) {
      const nowMs = deps.clock();
      if (nowMs - lastSampleMs < SAMPLE_EVERY_MS) return;
      lastSampleMs = nowMs;
      const spent = await deps.ledger.globalMonthSpendNanoUsd(monthOf(nowMs));
      metrics.addMetric(
        METRIC.globalBudgetUsedPercent,
        MetricUnit.Percent,
        (100 * spent) / usdToNano(deps.globalMonthlyBudgetUsd),
      );
    },
  };
}
