import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { nanoToUsd } from '../domain/pricing/model-price.js';
import type { AbandonedReservation } from '../ports/usage-ledger.js';
import { countInternalError } from './internal-errors.js';

/** What an operator finds an abandoned call by: whose, which API, which hold, what was billed. */
const namedBy = (call: AbandonedReservation) => ({
  reservationId: call.id,
  userId: call.userId,
  ...(call.keyId && { keyId: call.keyId }),
  api: call.ifAbandoned.api,
  costUsd: nanoToUsd(call.amountNanoUsd),
});

/** The line for a call whose function died before it settled, billed all it held. */
export function logAbandonedCall(logger: Logger, call: AbandonedReservation): void {
  logger.warn('billed a call whose function died before it settled', namedBy(call));
}

/** An abandoned call billed whose usage record could not be written: no one will write it. */
export function reportUnrecordedCall(
  logger: Logger,
  metrics: Metrics,
  call: AbandonedReservation,
  error: unknown,
): void {
  logger.error('could not record the usage of an abandoned call', { ...namedBy(call), error });
  countInternalError(metrics);
}
