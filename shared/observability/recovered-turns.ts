import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { nanoToUsd } from '../domain/pricing/model-price.js';
import type { RecoveredTurn } from '../turns/recover-turn.js';
import { countInternalError } from './internal-errors.js';
import { recordSpend } from './spend-metrics.js';

/** The line an operator finds a dead turn by: whose, which conversation, what was billed. */
export function logRecoveredTurn(logger: Logger, turn: RecoveredTurn): void {
  const { costNanoUsd, counted: _, ...named } = turn;
  logger.warn('ended a turn whose function died', { ...named, costUsd: nanoToUsd(costNanoUsd) });
}

/**
 * The spend metrics of a dead turn, which its function never published: what the recovery's
 * settle counts, so that a turn that only stalled and settles later is not counted twice.
 */
export function recordRecoveredSpend(metrics: Metrics, turn: RecoveredTurn): void {
  recordSpend(metrics, turn.counted);
}

/** A dead turn ended and billed whose usage record could not be written: no one will write it. */
export function reportUnrecordedTurn(
  logger: Logger,
  metrics: Metrics,
  turn: RecoveredTurn,
  error: unknown,
): void {
  const { costNanoUsd, counted: _, ...named } = turn;
  logger.error('could not record the usage of a recovered turn', {
    ...named,
    costUsd: nanoToUsd(costNanoUsd),
    error,
  });
  countInternalError(metrics);
}
