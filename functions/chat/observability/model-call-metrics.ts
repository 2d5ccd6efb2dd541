import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AppError, UpstreamError } from '../../../shared/domain/errors.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import { ERROR_TYPE_DIMENSION, METRIC } from '../../../shared/observability/metric-names.js';
import { recordSpend } from '../../../shared/observability/spend-metrics.js';

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
  metrics.addMetric(METRIC.turnLatency, MetricUnit.Milliseconds, call.latencyMs);
  recordSpend(metrics, call);
  countOutcome(metrics, call.failureType);
}

/**
 * A model call that could not start answering: a call, and a failed one unless the
 * caller was at fault (see `startFailureType`), so that the error rate sees an outage
 * of the model, or of our access to it, as well as answers that broke off.
 */
export function recordFailedStart(metrics: Metrics, error: unknown): void {
  metrics.addMetric(METRIC.requests, MetricUnit.Count, 1);
  countOutcome(metrics, startFailureType(error));
}

/**
 * The error type a call that could not start counts as failed under; none for an error
 * response of the Anthropic API to the caller's own request, passed on as it came (a 4xx
 * but 429): the caller's mistake, not a failure of the service.
 */
export function startFailureType(error: unknown): string | undefined {
  if (error instanceof UpstreamError) {
    return error.status >= 500 || error.status === 429 ? error.type : undefined;
  }
  return error instanceof AppError ? error.type : 'api_error';
}

function countOutcome(metrics: Metrics, failureType: string | undefined): void {
  metrics.addMetric(METRIC.turnsFailed, MetricUnit.Count, failureType ? 1 : 0);
  if (failureType) {
    const errors = metrics.singleMetric();
    errors.addDimension(ERROR_TYPE_DIMENSION, failureType);
    errors.addMetric(METRIC.modelErrors, MetricUnit.Count, 1);
  }
}
