import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { IdentifiedJob, JobAttempt, RunJob } from './run-job.js';

/** Idempotency records (and so "processed once") last a day. */
const IDEMPOTENCY_SECONDS = 24 * 3600;

/** Runs a job; a job id already done does nothing again. */
export type RunJobOnce = (
  job: IdentifiedJob,
  attempt?: JobAttempt,
  context?: Context,
) => ReturnType<RunJob>;

/**
 * Powertools idempotency keyed on the user and the job id (a producer's ids are its
 * own: two users may both send `invoice-1`): a duplicate delivery is processed once.
 * A duplicate arriving while the first copy runs throws IdempotencyAlreadyInProgressError.
 * A run that throws leaves no record, so a retried (or deferred) job runs again.
 */
export function runOnce(runJob: RunJob, store: BasePersistenceLayer): RunJobOnce {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: '[userId, jobId]',
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const idempotent = makeIdempotent(runJob, { persistenceStore: store, config });
  return (job, attempt, context) => {
    // The in-progress record expires with the invocation, so a crashed attempt is retried.
    if (context) config.registerLambdaContext(context);
    return idempotent(job, attempt);
  };
}
