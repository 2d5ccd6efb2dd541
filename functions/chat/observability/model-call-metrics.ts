import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import { ERROR_TYPE_DIMENSION, METRIC } from '../../../shared/observability/metric-names.js';

/** The metrics of one model call, a chat turn or a /v1/messages call: what alarms and the dashboard read. */
export function recordModelCall(
  metrics: Metrics,
  call: {
    latencyMs: number;
    usage: TokenUsage;
    costNanoUsd: number;
    failureType?: string | undefined;
  },
): void {
  const { usage } = call;
  metrics.addMetric(METRIC.turnLatency, MetricUnit.Milliseconds, call.latencyMs);
  metrics.addMetric(METRIC.inputTokens, MetricUnit.Count, usage.inputTokens);
  metrics.addMetric(METRIC.outputTokens, MetricUnit.Count, usage.outputTokens);
  metrics.addMetric(METRIC.cacheReadInputTokens, MetricUnit.Count, usage.cacheReadInputTokens);
  metrics.addMetric(
    METRIC.cacheCreationInputTokens,
    MetricUnit.Count,
    usage.cacheCreationInputTokens,
  );
  metrics.addMetric(METRIC.costUsd, MetricUnit.Count, nanoToUsd(call.costNanoUsd));
  metrics.addMetric(METRIC.turnsFailed, MetricUnit.Count, call.failureType ? 1 : 0);
  if (call.failureType) {
    const errors = metrics.singleMetric();
    errors.addDimension(ERROR_TYPE_DIMENSION, call.failureType);
    errors.addMetric(METRIC.modelErrors, MetricUnit.Count, 1);
  }
}
