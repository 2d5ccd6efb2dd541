import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BudgetExceededError, RateLimitedError } from '../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { countInternalError } from '../../../shared/observability/internal-errors.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { TurnObserver } from '../turn/turn-types.js';
import { recordFailedStart, recordModelCall } from './model-call-metrics.js';

/**
 * A turn's observations as Powertools metrics (EMF) and log lines. One per request:
 * its metrics are published with the response.
 */
export function createTurnObserver(scope: { logger: Logger; metrics: Metrics }): TurnObserver {
  const { logger, metrics } = scope;
  const count = (name: string) => metrics.addMetric(name, MetricUnit.Count, 1);
  return {
    rejected(error) {
      if (error instanceof RateLimitedError) count(METRIC.rateLimitRejections);
      if (error instanceof BudgetExceededError) count(METRIC.budgetRejections);
    },
    started: () => count(METRIC.requests),
    failedToStart: (error) => recordFailedStart(metrics, error),
    promptShortened: ({ messagesLeftOut, promptTokens, contextTokens }) =>
      logger.warn(
        'the prompt was too long for the model: asked again without its oldest messages',
        {
          messagesLeftOut,
          promptTokens,
          contextTokens,
        },
      ),
    firstToken: (latencyMs) =>
      metrics.addMetric(METRIC.timeToFirstToken, MetricUnit.Milliseconds, latencyMs),
    answerNotStored(error) {
      logger.error('could not store the answer', { error });
      countInternalError(metrics);
    },
    settlementFailed(details) {
      // The reservation still holds the worst case, so the budget stays safe; the spend
      // is missing from the ledger until an operator reconciles it from this line.
      logger.error('could not settle the usage of a turn', details);
      countInternalError(metrics);
    },
    rateWindowNotCorrected: (error) => logger.warn('could not correct the rate window', { error }),
    budgetOverrun({ overrunNanoUsd, reservationId }) {
      metrics.addMetric(METRIC.budgetOverrunUsd, MetricUnit.Count, nanoToUsd(overrunNanoUsd));
      logger.warn('a turn cost more than its reservation', {
        reservationId,
        overrunUsd: nanoToUsd(overrunNanoUsd),
      });
    },
    compactionNotRequested: (error) => logger.warn('could not request compaction', { error }),
    usageNotRecorded(error) {
      logger.error('could not record the usage of a turn', { error });
      countInternalError(metrics);
    },
    pieceNotSaved: (error) =>
      logger.warn('could not save a piece of the streaming answer', { error }),
    async ended(summary) {
      // What the ledger counts: a stalled turn's recovery published the rest.
      recordModelCall(metrics, {
        ...summary,
        ...summary.counted,
        failureType: summary.failure?.type,
      });
      logger.info('turn ended', {
        conversationId: summary.conversationId,
        messageId: summary.messageId,
        model: summary.model,
        ...(summary.upstreamModel && { upstreamModel: summary.upstreamModel }),
        stopReason: summary.stopReason,
        usage: summary.usage,
        usageEstimated: summary.usageEstimated,
        costUsd: nanoToUsd(summary.costNanoUsd),
        ...(summary.failure && { failure: { type: summary.failure.type, error: summary.failure } }),
      });
    },
  };
}
