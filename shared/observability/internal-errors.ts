import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from './metric-names.js';

/**
 * Counts one failure of ours beside its ERROR line (see {@link METRIC.internalErrors}),
 * published at once: the chat function's error handler runs after its request's metrics
 * were published.
 */
export function countInternalError(metrics: Metrics): void {
  metrics.singleMetric().addMetric(METRIC.internalErrors, MetricUnit.Count, 1);
}
