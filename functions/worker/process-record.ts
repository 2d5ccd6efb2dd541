import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { isUserId } from '../../shared/auth/user-id.js';
import type { Clock } from '../../shared/domain/clock.js';
import { cutText } from '../../shared/domain/cut-text.js';
import { isJobId } from '../../shared/domain/ids.js';
import { quoted } from '../../shared/domain/quoted.js';
import { eventNamed, jobEndedEvent } from '../../shared/events/producer-events.js';
import { contentHashOf, jobIdOf } from '../../shared/jobs/job-id.js';
import { JobMessageSchema } from '../../shared/jobs/job-message.js';
import {
  ASKED_AT_ATTRIBUTE,
  FAILED_DELIVERIES_ATTRIBUTE,
  JOBS_QUEUE_DEFINITION,
} from '../../shared/jobs/queue-definition.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { Job, JobFailedStatus, JobStatus, JobStore } from '../../shared/ports/job-store.js';
import type { MessageActions, QueueMessage } from '../../shared/ports/message-actions.js';
import { createCancelEnding } from './end-cancelled.js';
import { deadlineOf } from './job-deadline.js';
import {
  classifyFailure,
  JobCancelledError,
  JobDeferredError,
  retryDelaySeconds,
} from './job-errors.js';
import { budgetCheckAfter, type JobObserver } from './job-observer.js';
import type { IdentifiedJob } from './run-job.js';
import type { RunJobOnce } from './run-once.js';

const JobRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(JobMessageSchema) });
/** A duplicate that arrives while the first copy runs looks again after this at least. */
const IN_PROGRESS_RETRY_SECONDS = 30;
/** A message for a job in one of these is a duplicate: the job is not run again. */
const ENDED: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);
/** Ends a message sent since asks to run again, as POST /v1/jobs does (the budget raised, say). */
const RUN_AGAIN: ReadonlySet<JobStatus> = new Set(['failed', 'cancelled']);

export type HandleRecord = (record: SQSRecord, context?: Context) => Promise<void>;

/**
 * Handles one SQS record: parse, admit (a job id reused for other content is refused, a
 * cancelled, failed or finished job is not run again, a dead-lettered one is when its message
 * was sent again since: redriven, and a failed or cancelled one too: asked again; a succeeded
 * one asked again has its end published again), process
 * once per user and job id, and on failure either retry later (the
 * job `queued` again, after a growing delay, at least the provider's retry-after), or end the
 * job for good, dead-lettering the message when the message itself is at fault or no
 * retry was left. Every end is published; a job that waits for its batch is put back on
 * the queue, as any copy of a message is, with its attributes.
 * @throws to report the record as a batch item failure (SQS retries it)
 */
export function createRecordHandler(deps: {
  runJob: RunJobOnce;
  jobs: Pick<
    JobStore,
    | 'create'
    | 'get'
    | 'markFailed'
    | 'markCancelled'
    | 'markRetrying'
    | 'recordConflict'
    | 'recordFailedDeliveries'
    | 'requeue'
    | 'forgetCheckpoints'
  >;
  messages: MessageActions;
  events: EventPublisher;
  /** After a job failed for good: budget thresholds. Never fails the record. */
  afterSpend?: (userId: string) => Promise<void>;
  clock: Clock;
  observer: JobObserver;
  limits: { jobRetryBaseSeconds: number; deadlineMarginMs: number };
}): HandleRecord {
  const { messages, observer, jobs } = deps;
  const endCancelled = createCancelEnding({
    ...deps,
    afterSpend: deps.afterSpend ?? (async () => {}),
  });
  const nowIso = () => new Date(deps.clock()).toISOString();
  const publish = (event: Parameters<EventPublisher['publish']>[0]) =>
    deps.events
      .publish(event)
      .catch((error: unknown) => observer.notPublished(error, eventNamed(event)));

  return async (record, context) => {
    const attempt = { handedBack: false };
    try {
      await handle(record, context, attempt);
    } catch (error) {
      // The batch processor logs nothing: a failure not reported here would reach the
      // dead-letter queue unexplained. A job's own failed attempt was reported as such, and
      // a duplicate that waits for its first copy is no failure.
      if (!attempt.handedBack && !(error instanceof IdempotencyAlreadyInProgressError)) {
        const named = jobNamedBy(record);
        observer.recordFailed({
          messageId: record.messageId,
          ...(named && { jobId: named.jobId, userId: named.userId }),
          receiveCount: receiveCountOf(record),
          error,
        });
      }
      throw error;
    }
  };

  async function handle(
    record: SQSRecord,
    context: Context | undefined,
    attempt: { handedBack: boolean },
  ) {
    const parsed = JobRecordSchema.safeParse(record);
    if (!parsed.success) {
      const reason = rejectionReason(parsed.error.issues);
      observer.invalidMessage({ messageId: record.messageId, reason });
      await messages.deadLetter(queueMessageOf(record), reason);
      const named = namedIn(record.body);
      // A job of that id is another message's: this refusal must not end it in its events.
      if (named && !(await jobs.get(named.userId, named.jobId))) {
        await publish(
          jobEndedEvent(
            named,
            { status: 'dead_lettered', error: { type: 'invalid_request_error', message: reason } },
            nowIso(),
          ),
        );
      }
      return;
    }
    const message = parsed.data.body;
    const job: IdentifiedJob = { ...message, jobId: jobIdOf(message) };
    const contentHash = contentHashOf(message);
    let stored = await jobs.create(
      {
        jobId: job.jobId,
        userId: job.userId,
        type: job.type,
        contentHash,
        ...(message.type === 'summarize.document' && message.priority === 'batch'
          ? { priority: 'batch' as const }
          : {}),
      },
      nowIso(),
    );
    // Another type's job is another content's too (a compaction made before compactions
    // recorded their content hash has none).
    if (
      stored.type !== job.type ||
      (stored.contentHash !== undefined && stored.contentHash !== contentHash)
    ) {
      await refuseConflict(record, job, stored);
      return;
    }
    // A redrive sends a dead-lettered job's message anew, with a new sent time, and so does a
    // producer asking again for a job that failed or was cancelled; a copy sent before the
    // job ended (a duplicate delivery, a repeated submission) is that job: nothing to do.
    const sentSinceEnd = sentAtMs(record) > Date.parse(stored.updatedAt);
    if (RUN_AGAIN.has(stored.status) && askedAtMs(record) > Date.parse(stored.updatedAt)) {
      stored = (await jobs.requeue(job.userId, job.jobId, nowIso())) ?? stored;
    }
    // Queued again after it failed or was cancelled: by this message, or by POST /v1/jobs
    // before it sent its own. A retry keeps its attempt's error, a requeue clears it.
    const askedAgain = stored.status === 'queued' && stored.attempts > 0 && !stored.error;
    const redriven = stored.status === 'dead_lettered' && sentSinceEnd;
    if (ENDED.has(stored.status) || (stored.status === 'dead_lettered' && !redriven)) {
      observer.alreadyEnded({
        jobId: job.jobId,
        userId: job.userId,
        status: stored.status,
        receiveCount: receiveCountOf(record),
      });
      // Cancelled between its attempts: what it kept of them goes now.
      if (stored.status === 'cancelled') await forgetConversationParts(job);
      // Asked again after it succeeded: a producer with only SQS has no other way to learn
      // an end it missed, so it hears it again, as the job keeps it.
      if (stored.status === 'succeeded' && sentSinceEnd) await publish(endAsKept(stored));
      return;
    }
    if (redriven) {
      observer.redriven({ jobId: job.jobId, userId: job.userId });
      // A redrive counts its deliveries again: what the job kept of the run before goes.
      if (stored.failedDeliveries) {
        await jobs.recordFailedDeliveries(job.userId, job.jobId, 0);
        const { failedDeliveries: _, ...counted } = stored;
        stored = counted;
      }
    }

    const deadline = deadlineOf(context, deps.limits.deadlineMarginMs, deps.clock);
    try {
      await deps.runJob(
        job,
        { deadline, record: stored, ...(askedAgain && { askedAgain }) },
        context,
      );
    } catch (error) {
      if (error instanceof JobCancelledError) {
        await forgetConversationParts(job);
        return;
      }
      if (error instanceof JobDeferredError) {
        // This message's own deliveries before this one failed: they go on counting, on the
        // copy and on the job, which keeps them for a copy with no room for them (a producer's
        // message with all ten attributes SQS allows): a copy starts at a receive count of 1.
        const failedDeliveries = deliveriesOf(record, stored) - 1;
        if (failedDeliveries !== (stored.failedDeliveries ?? 0)) {
          await jobs.recordFailedDeliveries(job.userId, job.jobId, failedDeliveries);
        }
        await messages.requeue(queueMessageOf(record), error.delaySeconds, failedDeliveries);
        observer.deferred({
          jobId: job.jobId,
          userId: job.userId,
          delaySeconds: error.delaySeconds,
        });
        return;
      }
      if (error instanceof IdempotencyAlreadyInProgressError) {
        await messages.delayRetry(
          record.receiptHandle,
          inProgressRetrySeconds(deadline.invocationEndsAtMs - deps.clock()),
        );
        throw error;
      }
      await failed(record, job, stored, error, attempt);
    }
  }

  async function failed(
    record: SQSRecord,
    job: IdentifiedJob,
    stored: Job,
    error: unknown,
    attempt: { handedBack: boolean },
  ) {
    const failure = classifyFailure(error);
    const receiveCount = deliveriesOf(record, stored);
    const lastAttempt = receiveCount >= JOBS_QUEUE_DEFINITION.maxReceiveCount;
    observer.attemptFailed({ jobId: job.jobId, userId: job.userId, receiveCount, failure, error });
    const jobError = { type: failure.type, message: failure.message };
    if (failure.retryable && !lastAttempt) {
      const retrying = await jobs.markRetrying(job.userId, job.jobId, jobError, nowIso());
      // Its user asked to cancel it as the attempt failed (202): it ends now, its message deleted.
      if (retrying === 'cancel_asked' && (await endCancelled(job, undefined))) {
        await forgetConversationParts(job);
        return;
      }
      await messages.delayRetry(
        record.receiptHandle,
        retryDelaySeconds(deps.limits.jobRetryBaseSeconds, receiveCount, failure.retryAfterSeconds),
      );
      attempt.handedBack = true;
      throw error;
    }
    // A retryable failure's last attempt goes to the dead-letter queue through the redrive
    // policy, unless the message is not at fault: then the job fails, its message deleted.
    const toDeadLetters = failure.retryable && !failure.failsWhenRetriesRunOut;
    const status: JobFailedStatus =
      toDeadLetters || failure.deadLetter ? 'dead_lettered' : 'failed';
    if (!(await jobs.markFailed(job.userId, job.jobId, { status, error: jobError }, nowIso()))) {
      // Its user asked to cancel it as the attempt failed, and was answered 202: it ends
      // cancelled (with the spend the attempt recorded), its message deleted, not dead-lettered.
      await endCancelled(job, undefined);
      await forgetConversationParts(job);
      return;
    }
    observer.failed();
    // A dead-lettered job's checkpoints stay: a redrive runs it again from them.
    if (status === 'failed') await forgetConversationParts(job);
    const current = await currentSpend(job, stored);
    await publish(jobEndedEvent(current, { status, error: jobError }, nowIso()));
    await deps
      .afterSpend?.(job.userId)
      .catch((e: unknown) => observer.notPublished(e, budgetCheckAfter(job)));
    // A copy put back whose earlier copies' deliveries failed too: SQS, which counts this
    // message's alone, would not move it; or would move it with their count, which its
    // redrive would go on counting from.
    const redrivePolicyMovesIt =
      receiveCountOf(record) >= JOBS_QUEUE_DEFINITION.maxReceiveCount &&
      failedBeforeOf(record, stored) === 0;
    if (toDeadLetters && redrivePolicyMovesIt) {
      // Made visible at once, so SQS moves it to the dead-letter queue now rather than
      // after a whole visibility timeout.
      await messages.delayRetry(record.receiptHandle, 0);
      attempt.handedBack = true;
      throw error;
    }
    if (toDeadLetters || failure.deadLetter) {
      await messages.deadLetter(queueMessageOf(record), `${failure.type}: ${failure.message}`);
    }
  }

  /**
   * What a compaction's parts said is its conversation's, kept by it alone: a compaction that
   * ended (failed, its conversation deleted, say; or cancelled) keeps none of it, as one that
   * succeeded. A dead-lettered one keeps them for its redrive.
   */
  async function forgetConversationParts(job: IdentifiedJob) {
    if (job.type !== 'summarize.conversation') return;
    await jobs
      .forgetCheckpoints(job.userId, job.jobId)
      .catch((error: unknown) => observer.checkpointsNotForgotten(error));
  }

  /** A succeeded job's end as its item keeps it (a conversation's summary is not kept). */
  function endAsKept(stored: Job) {
    return jobEndedEvent(
      stored,
      {
        status: 'succeeded',
        ...(stored.result && {
          summary: stored.result.summary,
          truncated: stored.result.truncated ?? false,
        }),
      },
      stored.updatedAt,
    );
  }

  /** The job as the attempt left it: its recorded spend, for the event. */
  async function currentSpend(job: IdentifiedJob, stored: Job): Promise<Job> {
    return (await jobs.get(job.userId, job.jobId)) ?? stored;
  }

  async function refuseConflict(record: SQSRecord, job: IdentifiedJob, stored: Job) {
    const reason = `job id ${quoted(job.jobId)} was already used for other content (job created ${stored.createdAt}); this message was not processed`;
    await jobs.recordConflict(job.userId, job.jobId, reason, nowIso());
    // A compaction is the service's own, and its next turn asks for it under another id
    // (see isCompaction): dead-lettered, it would page an operator for nothing to redrive.
    if (job.type !== 'summarize.conversation') {
      await messages.deadLetter(queueMessageOf(record), `conflict_error: ${reason}`);
    }
    observer.conflict({ jobId: job.jobId, userId: job.userId });
    // Not a job.ended: the job of that id is another message's, and goes on.
    await publish({
      version: 1,
      type: 'message.refused',
      at: nowIso(),
      jobId: job.jobId,
      userId: job.userId,
      jobType: job.type,
      error: { type: 'conflict_error', message: reason },
    });
  }
}

/** Each issue's own words are cut this short: a key name or a parser's quote can be any size. */
const ISSUE_CHARS = 200;
const REASON_CHARS = 1_000;

/**
 * Why a message failed the schema, for the log, the dead-letter copy and the producer's
 * event: bounded (an event must stay under SNS's size limit), and never quoting the body,
 * which JSON.parse's error does, and zod's does of unknown keys (a key can be anything).
 */
function rejectionReason(
  issues: ReadonlyArray<{ code?: string; path: PropertyKey[]; message: string; keys?: unknown[] }>,
) {
  const said = issues.map(({ code, path, message, keys }) => {
    const words = message.startsWith('Invalid JSON')
      ? 'the body is not JSON'
      : code === 'unrecognized_keys'
        ? `${keys?.length ?? 'some'} field(s) the contract does not have (docs/job-message.schema.json)`
        : message;
    const cut = cutText(words, ISSUE_CHARS);
    return `${path.map(String).join('.')}: ${cut}`;
  });
  const reason = `invalid job message: ${said.join('; ')}`;
  return cutText(reason, REASON_CHARS);
}

/** The user and job a message that failed the schema names, when it names both validly. */
/** The job a record is for: the id its content gives when it names none, as the worker runs it. */
function jobNamedBy(record: SQSRecord): { userId: string; jobId: string } | undefined {
  const parsed = JobRecordSchema.safeParse(record);
  if (!parsed.success) return namedIn(record.body);
  return { userId: parsed.data.body.userId, jobId: jobIdOf(parsed.data.body) };
}

function namedIn(body: string): { userId: string; jobId: string; type?: Job['type'] } | undefined {
  try {
    const value = JSON.parse(body) as { userId?: unknown; jobId?: unknown; type?: unknown };
    if (typeof value.userId !== 'string' || !isUserId(value.userId)) return undefined;
    if (typeof value.jobId !== 'string' || !isJobId(value.jobId)) return undefined;
    const type =
      value.type === 'summarize.document' || value.type === 'summarize.conversation'
        ? value.type
        : undefined;
    return { userId: value.userId, jobId: value.jobId, ...(type && { type }) };
  } catch {
    return undefined;
  }
}

function queueMessageOf(record: SQSRecord): QueueMessage {
  return { body: record.body, attributes: record.messageAttributes ?? {} };
}

/** When the message was sent to the queue (a redriven one: when it was redriven). */
function sentAtMs(record: SQSRecord): number {
  return Number(record.attributes.SentTimestamp ?? 0);
}

/**
 * When the message asked for its job: when the chat function (`POST /v1/jobs`, a compaction)
 * recorded the job queued for it, which a cancel landing before its send came after; else (a
 * producer's) when it was sent.
 */
function askedAtMs(record: SQSRecord): number {
  const asked = Date.parse(record.messageAttributes?.[ASKED_AT_ATTRIBUTE]?.stringValue ?? '');
  return Number.isNaN(asked) ? sentAtMs(record) : Math.min(asked, sentAtMs(record));
}

/** How many times SQS has delivered the message, this delivery included. */
function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount ?? 1);
}

/**
 * The job's deliveries in this run, this one included: the message's own, and the failed
 * ones of the copies put back before it (a batch job's), which SQS counts no more. A redrive
 * (the job dead-lettered when this delivery found it) starts again, whatever its copy says.
 */
function deliveriesOf(record: SQSRecord, found: Job): number {
  if (found.status === 'dead_lettered') return receiveCountOf(record);
  return receiveCountOf(record) + failedBeforeOf(record, found);
}

/**
 * The failed deliveries of the copies before this one, as this copy carries them, or as the
 * job keeps them for a copy that has no room for them.
 */
function failedBeforeOf(record: SQSRecord, found: Job): number {
  const carried = Number(record.messageAttributes?.[FAILED_DELIVERIES_ATTRIBUTE]?.stringValue);
  return Number.isSafeInteger(carried) && carried > 0 ? carried : (found.failedDeliveries ?? 0);
}

/**
 * When a duplicate looks again: about when the copy running must have ended, its invocation
 * as long as this one (it began no later; Powertools' error does not carry the lock's expiry).
 * Each look spends one of the message's receives: every 30 s, a run longer than two minutes
 * and a half had its duplicate dead-lettered.
 */
function inProgressRetrySeconds(invocationLeftMs: number): number {
  if (!Number.isFinite(invocationLeftMs)) return IN_PROGRESS_RETRY_SECONDS;
  return Math.max(IN_PROGRESS_RETRY_SECONDS, Math.ceil(invocationLeftMs / 1000) + 1);
}
