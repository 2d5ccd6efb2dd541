import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ModelError } from '../../shared/domain/errors.js';
import { nanoToUsd } from '../../shared/domain/pricing/model-price.js';
import { countInternalError } from '../../shared/observability/internal-errors.js';
import { ERROR_TYPE_DIMENSION, METRIC } from '../../shared/observability/metric-names.js';
import { recordSpend } from '../../shared/observability/spend-metrics.js';
import type { JobObserver } from './job-observer.js';

/** The worker's observations as Powertools metrics (published per invocation) and log lines. */
export function createJobObserver(logger: Logger, metrics: Metrics): JobObserver {
  const add = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  return {
    invalidMessage(details) {
      logger.warn('dead-lettering an invalid message', details);
      add(METRIC.jobsFailed, 1);
    },
    modelCall(usage, costNanoUsd) {
      recordSpend(metrics, { usage, costNanoUsd });
    },
    budgetOverrun({ overrunNanoUsd, ...details }) {
      add(METRIC.budgetOverrunUsd, nanoToUsd(overrunNanoUsd));
      logger.warn('a job call cost more than its reservation', {
        ...details,
        overrunUsd: nanoToUsd(overrunNanoUsd),
      });
    },
    succeeded({ durationMs, ...details }) {
      add(METRIC.jobsSucceeded, 1);
      metrics.addMetric(METRIC.jobDuration, MetricUnit.Milliseconds, durationMs);
      logger.info('job succeeded', details);
    },
    cancelled: (details) => logger.info('job cancelled while it ran', details),
    batchNotCancelled: (details) =>
      logger.warn(
        "could not cancel a cancelled job's batch upstream; trying again at its next look",
        details,
      ),
    attemptFailed({ failure, ...details }) {
      logger.warn('job attempt failed', {
        ...details,
        failure: { type: failure.type, retryable: failure.retryable },
      });
      // Beside chat's on the dashboard: an outage that only jobs meet shows there too.
      if (details.error instanceof ModelError) {
        const errors = metrics.singleMetric();
        errors.addDimension(ERROR_TYPE_DIMENSION, details.error.type);
        errors.addMetric(METRIC.modelErrors, MetricUnit.Count, 1);
      }
    },
    failed: () => add(METRIC.jobsFailed, 1),
    settlementFailed(details) {
      logger.error('could not settle the usage of a model call', details);
      countInternalError(metrics);
    },
    usageNotRecorded(error, call) {
      logger.error('could not record the usage of a model call', { ...call, error });
      countInternalError(metrics);
    },
    notPublished(error, event) {
      add(METRIC.eventsNotPublished, 1);
      logger.warn('could not publish an event', { ...(event && { event }), error });
    },
    checkpointsNotForgotten: (error) =>
      logger.warn("could not delete a compaction's checkpoints", { error }),
    deferred: (details) => logger.info('job waits for its batch', details),
    redriven: (details) => logger.info('running again a job that was dead-lettered', details),
    recordFailed(details) {
      logger.error('could not process a job message', details);
      countInternalError(metrics);
    },
    alreadyEnded: (details) =>
      logger.info('dropped a message for a job that already ended', details),
    conflict(details) {
      add(METRIC.jobsFailed, 1);
      logger.warn('refused a message that reuses a job id for other content', details);
    },
  };
}
