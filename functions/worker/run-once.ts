import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { IdentifiedJob, RunJob } from './run-job.js';

/** Idempotency records (and so "processed once") last a day. */
const IDEMPOTENCY_SECONDS = 24 * 3600;

/** Runs a job; a job id already done answers its stored result instead. */
export type RunJobOnce = (job: IdentifiedJob, context?: Context) => ReturnType<RunJob>;

/**
 * Powertools idempotency keyed on the job id: a duplicate delivery is processed once.
 * A duplicate arriving while the first copy runs throws IdempotencyAlreadyInProgressError.
 */
export function runOnce(runJob: RunJob, store: BasePersistenceLayer): RunJobOnce {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'jobId',
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const idempotent = makeIdempotent(runJob, { persistenceStore: store, config });
  return (job, context) => {
    // The in-progress record expires with the invocation, so a crashed attempt is retried.
    if (context) config.registerLambdaContext(context);
    return idempotent(job);
  };
}
