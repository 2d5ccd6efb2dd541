import type { Logger } from '@aws-lambda-powertools/logger';
import { nanoToUsd } from '../domain/pricing/model-price.js';
import type { RecoveredTurn } from '../turns/recover-turn.js';

/** The line an operator finds a dead turn by: whose, which conversation, what was billed. */
export function logRecoveredTurn(logger: Logger, turn: RecoveredTurn): void {
  const { costNanoUsd, ...named } = turn;
  logger.warn('ended a turn whose function died', { ...named, costUsd: nanoToUsd(costNanoUsd) });
}
