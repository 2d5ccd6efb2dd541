import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BudgetExceededError, RateLimitedError } from '../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { countInternalError } from '../../../shared/observability/internal-errors.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { MessagesObserver } from '../messages/messages-types.js';
import { recordFailedStart, recordModelCall } from './model-call-metrics.js';

/**
 * A /v1/messages call's observations as Powertools metrics (the same as a chat turn's,
 * so the same alarms watch both) and log lines, never its content.
 */
export function createMessagesObserver(scope: {
  logger: Logger;
  metrics: Metrics;
}): MessagesObserver {
  const { logger, metrics } = scope;
  const count = (name: string) => metrics.addMetric(name, MetricUnit.Count, 1);
  return {
    rejected(error) {
      if (error instanceof RateLimitedError) count(METRIC.rateLimitRejections);
      if (error instanceof BudgetExceededError) count(METRIC.budgetRejections);
    },
    failedToStart: (error) => recordFailedStart(metrics, error),
    refusedInStream(error) {
      // As the error handler logs an error response of the Anthropic API passed on; the
      // caller's status is the stream's 200.
      logger.warn('upstream error passed on', {
        statusCode: 200,
        errorType: error.type,
        inStream: true,
      });
      recordFailedStart(metrics, error);
    },
    firstToken: (latencyMs) =>
      metrics.addMetric(METRIC.timeToFirstToken, MetricUnit.Milliseconds, latencyMs),
    settlementFailed(details) {
      logger.error('could not settle the usage of a /v1/messages call', details);
      countInternalError(metrics);
    },
    budgetOverrun({ overrunNanoUsd, reservationId }) {
      metrics.addMetric(METRIC.budgetOverrunUsd, MetricUnit.Count, nanoToUsd(overrunNanoUsd));
      logger.warn('a call cost more than its reservation', {
        reservationId,
        overrunUsd: nanoToUsd(overrunNanoUsd),
      });
    },
    usageNotRecorded(error) {
      logger.error('could not record the usage of a call', { error });
      countInternalError(metrics);
    },
    cacheFailed: (error) =>
      logger.warn('the response cache failed; answered without it', { error }),
    async ended(summary) {
      if (summary.cache === 'hit') count(METRIC.responseCacheHits);
      else {
        count(METRIC.requests);
        if (summary.cache === 'miss') count(METRIC.responseCacheMisses);
        recordModelCall(metrics, { ...summary, failureType: summary.failure?.type });
      }
      logger.info('messages call ended', {
        model: summary.model,
        ...(summary.upstreamModel && { upstreamModel: summary.upstreamModel }),
        stream: summary.stream,
        cache: summary.cache,
        stopReason: summary.stopReason,
        usage: summary.usage,
        usageEstimated: summary.usageEstimated,
        costUsd: nanoToUsd(summary.costNanoUsd),
        latencyMs: summary.latencyMs,
        ...(summary.failure && { failure: summary.failure }),
      });
    },
  };
}
