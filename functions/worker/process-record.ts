import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { jobIdOf } from '../../shared/jobs/job-id.js';
import { JobMessageSchema } from '../../shared/jobs/job-message.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import { METRIC } from '../../shared/observability/metric-names.js';
import type { WorkerDependencies } from './dependencies.js';
import { classifyFailure, retryDelaySeconds } from './job-errors.js';
import { type IdentifiedJob, runJob } from './run-job.js';

const JobRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(JobMessageSchema) });
/** Idempotency records (and so "processed once") last a day. */
const IDEMPOTENCY_SECONDS = 24 * 3600;
/** A duplicate that arrives while the first copy runs looks again after this. */
const IN_PROGRESS_RETRY_SECONDS = 30;

/**
 * Handles one SQS record: parse, process once per job id, and on failure either
 * retry later with a growing delay, or fail the job for good (dead-lettering the
 * message when the message itself is at fault).
 * @throws to report the record as a batch item failure (SQS retries it)
 */
export function createRecordHandler(deps: WorkerDependencies) {
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'jobId',
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const runOnce = makeIdempotent((job: IdentifiedJob) => runJob(deps, job), {
    persistenceStore: deps.idempotencyStore,
    config: idempotencyConfig,
  });
  const now = () => new Date((deps.clock ?? Date.now)()).toISOString();

  return async (record: SQSRecord, context?: Context): Promise<void> => {
    if (context) idempotencyConfig.registerLambdaContext(context);
    const parsed = JobRecordSchema.safeParse(record);
    if (!parsed.success) {
      const reason = `invalid job message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      deps.logger.warn('dead-lettering an invalid message', {
        messageId: record.messageId,
        reason,
      });
      await deps.messages.deadLetter(record.body, reason);
      deps.metrics.addMetric(METRIC.jobsFailed, MetricUnit.Count, 1);
      return;
    }
    const message = parsed.data.body;
    const job: IdentifiedJob = { ...message, jobId: jobIdOf(message) };
    try {
      await runOnce(job);
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError) {
        await deps.messages.delayRetry(record.receiptHandle, IN_PROGRESS_RETRY_SECONDS);
        throw error;
      }
      const failure = classifyFailure(error);
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
      const lastAttempt = receiveCount >= JOBS_QUEUE_DEFINITION.maxReceiveCount;
      deps.logger.warn('job attempt failed', {
        jobId: job.jobId,
        userId: job.userId,
        receiveCount,
        failure: { type: failure.type, retryable: failure.retryable },
        error,
      });
      if (failure.retryable && !lastAttempt) {
        await deps.messages.delayRetry(
          record.receiptHandle,
          retryDelaySeconds(deps.settings.JOB_RETRY_BASE_SECONDS, receiveCount),
        );
        throw error;
      }
      await deps.jobs.markFailed(
        job.userId,
        job.jobId,
        { type: failure.type, message: failure.message },
        now(),
      );
      deps.metrics.addMetric(METRIC.jobsFailed, MetricUnit.Count, 1);
      if (failure.retryable) {
        // The last attempt of a retryable failure: made visible at once, so SQS moves it
        // to the dead-letter queue now rather than after a whole visibility timeout.
        await deps.messages.delayRetry(record.receiptHandle, 0);
        throw error;
      }
      if (failure.deadLetter)
        await deps.messages.deadLetter(record.body, `${failure.type}: ${failure.message}`);
    }
  };
}
