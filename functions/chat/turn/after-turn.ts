import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ModelError } from '../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { estimateTokens } from '../../../shared/domain/tokens.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import { compactionJobId } from '../../../shared/jobs/job-id.js';
import { ERROR_TYPE_DIMENSION, METRIC } from '../../../shared/observability/metric-names.js';
import type { ChatDependencies } from '../dependencies.js';
import type { StartedTurn } from './start-turn.js';

export interface TurnResult {
  text: string;
  usage: TokenUsage;
  costNanoUsd: number;
  failure: ModelError | undefined;
}

/**
 * What a stored turn leaves behind: its cost settled against the budget and rate
 * window, compaction requested when the history grew past the threshold, metrics.
 * None of it fails the turn: each failure is logged for an operator.
 */
export async function afterTurn(
  deps: ChatDependencies,
  turn: StartedTurn,
  result: TurnResult,
  logger: Logger,
  metrics: Metrics,
): Promise<void> {
  const now = deps.clock ?? Date.now;
  await settleAdmission(deps, turn, result.usage, result.costNanoUsd, logger);
  const historyTokens = turn.uncompactedTokens + estimateTokens(result.text);
  const threshold = deps.settings.COMPACTION_THRESHOLD_TOKENS;
  if (historyTokens > threshold) {
    await requestCompaction(deps, turn, Math.floor(historyTokens / threshold), now).catch(
      (error: unknown) => {
        // The next turn asks again: compaction is an optimisation, never a failure.
        logger.warn('could not request compaction', { error });
      },
    );
  }
  recordTurnMetrics(metrics, result, now() - turn.receivedAtMs);
  await deps.sampleBudget(metrics, now()).catch((error: unknown) => {
    logger.warn('could not sample the global budget', { error });
  });
}

function recordTurnMetrics(metrics: Metrics, result: TurnResult, latencyMs: number) {
  const { usage, costNanoUsd, failure } = result;
  metrics.addMetric(METRIC.turnLatency, MetricUnit.Milliseconds, latencyMs);
  metrics.addMetric(METRIC.inputTokens, MetricUnit.Count, usage.inputTokens);
  metrics.addMetric(METRIC.outputTokens, MetricUnit.Count, usage.outputTokens);
  metrics.addMetric(METRIC.cacheReadInputTokens, MetricUnit.Count, usage.cacheReadInputTokens);
  metrics.addMetric(
    METRIC.cacheCreationInputTokens,
    MetricUnit.Count,
    usage.cacheCreationInputTokens,
  );
  metrics.addMetric(METRIC.costUsd, MetricUnit.Count, nanoToUsd(costNanoUsd));
  metrics.addMetric(METRIC.turnsFailed, MetricUnit.Count, failure ? 1 : 0);
  if (failure) {
    const errors = metrics.singleMetric();
    errors.addDimension(ERROR_TYPE_DIMENSION, failure.type);
    errors.addMetric(METRIC.modelErrors, MetricUnit.Count, 1);
  }
}

/** Records what the call cost and gives back the rest of what admission held. */
async function settleAdmission(
  deps: ChatDependencies,
  turn: StartedTurn,
  usage: TokenUsage,
  costNanoUsd: number,
  logger: Logger,
): Promise<void> {
  const { reservation, rateWindow, admittedTokens } = turn.admission;
  const usedTokens =
    usage.inputTokens +
    usage.outputTokens +
    usage.cacheReadInputTokens +
    usage.cacheCreationInputTokens;
  const [ledger, rate] = await Promise.allSettled([
    deps.ledger.settle(reservation, { usage, costNanoUsd }),
    deps.rateLimiter.adjust(rateWindow, usedTokens - admittedTokens),
  ]);
  if (ledger.status === 'rejected') {
    // The reservation still holds the worst case, so the budget stays safe; the spend
    // is missing from the ledger until an operator reconciles it from this line.
    logger.error('could not settle the usage of a turn', {
      error: ledger.reason,
      reservationId: reservation.id,
      costNanoUsd,
      usage,
    });
  }
  if (rate.status === 'rejected') {
    logger.warn('could not correct the rate window', { error: rate.reason });
  }
}

/**
 * Queues a summary of the conversation's older messages. Every turn past the threshold
 * names the same job until a new summary is saved, and the worker runs a job id once,
 * so turns that arrive while compaction is pending do not pile up work.
 */
async function requestCompaction(
  deps: ChatDependencies,
  turn: StartedTurn,
  thresholdMultiple: number,
  now: () => number,
) {
  const message = {
    type: 'summarize.conversation' as const,
    userId: turn.userId,
    conversationId: turn.conversationId,
    jobId: compactionJobId(
      turn.userId,
      turn.conversationId,
      turn.summaryThroughSeq,
      thresholdMultiple,
    ),
  };
  const job = await deps.jobs.create(message, new Date(now()).toISOString());
  if (job.status === 'queued') await deps.queue.send(message);
}
