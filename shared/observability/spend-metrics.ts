import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { nanoToUsd } from '../domain/pricing/model-price.js';
import type { TokenUsage } from '../domain/usage.js';
import { METRIC } from './metric-names.js';

/**
 * What a model call spent, as the spend metrics count it (tokens of each kind and `CostUsd`,
 * which the daily spend alarm and the dashboard sum over every function that publishes it).
 */
export function recordSpend(
  metrics: Metrics,
  spend: { usage: TokenUsage; costNanoUsd: number },
): void {
  const { usage } = spend;
  metrics.addMetric(METRIC.inputTokens, MetricUnit.Count, usage.inputTokens);
  metrics.addMetric(METRIC.outputTokens, MetricUnit.Count, usage.outputTokens);
  metrics.addMetric(METRIC.cacheReadInputTokens, MetricUnit.Count, usage.cacheReadInputTokens);
  metrics.addMetric(
    METRIC.cacheCreationInputTokens,
    MetricUnit.Count,
    usage.cacheCreationInputTokens,
  );
  metrics.addMetric(METRIC.costUsd, MetricUnit.Count, nanoToUsd(spend.costNanoUsd));
}
