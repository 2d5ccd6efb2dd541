import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import type { Clock } from '../../shared/domain/clock.js';
import { jobIdOf } from '../../shared/jobs/job-id.js';
import { JobMessageSchema } from '../../shared/jobs/job-message.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { MessageActions } from '../../shared/ports/message-actions.js';
import { classifyFailure, retryDelaySeconds } from './job-errors.js';
import type { JobObserver } from './job-observer.js';
import type { RunJobOnce } from './run-once.js';

const JobRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(JobMessageSchema) });
/** A duplicate that arrives while the first copy runs looks again after this. */
const IN_PROGRESS_RETRY_SECONDS = 30;

export type HandleRecord = (record: SQSRecord, context?: Context) => Promise<void>;

/**
 * Handles one SQS record: parse, process once per job id, and on failure either
 * retry later with a growing delay, or fail the job for good (dead-lettering the
 * message when the message itself is at fault).
 * @throws to report the record as a batch item failure (SQS retries it)
 */
export function createRecordHandler(deps: {
  runJob: RunJobOnce;
  jobs: Pick<JobStore, 'markFailed'>;
  messages: MessageActions;
  clock: Clock;
  observer: JobObserver;
  limits: { jobRetryBaseSeconds: number };
}): HandleRecord {
  const { messages, observer } = deps;
  const nowIso = () => new Date(deps.clock()).toISOString();
  return async (record, context) => {
    const parsed = JobRecordSchema.safeParse(record);
    if (!parsed.success) {
      const reason = `invalid job message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      await messages.deadLetter(record.body, reason);
      observer.invalidMessage({ messageId: record.messageId, reason });
      return;
    }
    const message = parsed.data.body;
    const job = { ...message, jobId: jobIdOf(message) };
    try {
      await deps.runJob(job, context);
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError) {
        await messages.delayRetry(record.receiptHandle, IN_PROGRESS_RETRY_SECONDS);
        throw error;
      }
      const failure = classifyFailure(error);
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
      const lastAttempt = receiveCount >= JOBS_QUEUE_DEFINITION.maxReceiveCount;
      observer.attemptFailed({
        jobId: job.jobId,
        userId: job.userId,
        receiveCount,
        failure,
        error,
      });
      if (failure.retryable && !lastAttempt) {
        await messages.delayRetry(
          record.receiptHandle,
          retryDelaySeconds(deps.limits.jobRetryBaseSeconds, receiveCount),
        );
        throw error;
      }
      await deps.jobs.markFailed(
        job.userId,
        job.jobId,
        { type: failure.type, message: failure.message },
        nowIso(),
      );
      observer.failed();
      if (failure.retryable) {
        // The last attempt of a retryable failure: made visible at once, so SQS moves it
        // to the dead-letter queue now rather than after a whole visibility timeout.
        await messages.delayRetry(record.receiptHandle, 0);
        throw error;
      }
      if (failure.deadLetter) {
        await messages.deadLetter(record.body, `${failure.type}: ${failure.message}`);
      }
    }
  };
}
