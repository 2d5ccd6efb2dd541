import type { Reservation } from '../domain/budget.js';
import type { Page } from '../domain/conversation.js';
import type { TokenUsage } from '../domain/usage.js';
import type { JobPriority } from '../jobs/job-message.js';
import type { PageRequest } from './conversation-store.js';

/**
 * `queued` also between a failed attempt and its retry; `dead_lettered`: the job's message
 * is in the dead-letter queue, for a person, and a redrive runs the job again.
 */
export const JOB_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'dead_lettered',
  'cancelled',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

/** How a job that did not succeed can end. */
export type JobFailedStatus = Extract<JobStatus, 'failed' | 'dead_lettered'>;

/** How far a long document's summary has come: parts of the current round summarized. */
export interface JobProgress {
  /** 1 for the document's parts, 2 and on for summaries of summaries. */
  round: number;
  partsDone: number;
  partsTotal: number;
}

/** A batch submitted to the Message Batches API and not yet collected. */
export interface PendingBatch {
  batchId: string;
  submittedAt: string;
  /** What the batch's worst case holds against the budgets until it is settled. */
  reservation: Reservation;
  /** Its answers were collected and its cost is in the job's: collected again, it adds none. */
  counted?: boolean;
  /** Its cancel was sent upstream (its job's user asked to cancel the job): not sent again. */
  cancelSent?: boolean;
}

export interface Job {
  jobId: string;
  userId: string;
  type: 'summarize.document' | 'summarize.conversation';
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  /**
   * A batch job's deliveries that failed before the copy of its message put back last, when
   * that copy could not carry them (see MessageActions.requeue): they count toward the
   * dead-letter limit as the copy's own would.
   */
  failedDeliveries?: number;
  /** Present for batch jobs only. */
  priority?: JobPriority;
  /** See contentHashOf: another content under the same id is a conflict. */
  contentHash?: string;
  /** `truncated`: the summary ended at its limit (`summaryMaxTokens`, or the 350,000-byte cap). */
  result?: { summary: string; truncated?: true };
  /** Why it failed; on a job that has not ended (or was cancelled between retries), why its last attempt failed. */
  error?: { type: string; message: string };
  /** Usage and cost so far (every attempt's, once it settled); the whole job's once it ended. */
  usage?: TokenUsage;
  costNanoUsd?: number;
  progress?: JobProgress;
  batch?: PendingBatch;
  /** The last message that claimed this job's id with other content, refused. */
  conflict?: { message: string; at: string };
  /**
   * When its user asked to cancel it while it ran: the worker stops its calls and ends it
   * `cancelled` (a batch job once its batch, cancelled upstream, has ended).
   */
  cancelRequestedAt?: string;
}

/** How an answer ended short of a whole one: cut at its limit, or refused. */
export type AnswerEnd = 'cut' | 'refused';

/** A model call's answer as kept: its text, and how it ended when not whole. */
export interface KeptAnswer {
  text: string;
  /** Kept with the text: a retry that reuses the answer ends the job as the first attempt would. */
  end?: AnswerEnd;
}

/** A model call's result kept so that a retried job does not make (and pay for) it again. */
export interface JobCheckpoint extends KeptAnswer {
  /** What the call was: a digest of its model and prompt. */
  key: string;
}

/** Job records, per user. */
export interface JobStore {
  /**
   * Creates the job as `queued` unless it exists.
   * @returns the job as stored: an existing one exactly as it was
   */
  create(
    job: Pick<Job, 'jobId' | 'userId' | 'type'> & Pick<Job, 'contentHash' | 'priority'>,
    nowIso: string,
  ): Promise<Job>;
  /**
   * Deletes a job its message never reached the queue for: only while it is `queued`, never
   * attempted, and holds this content. A message sent meanwhile makes the job again.
   */
  discard(userId: string, jobId: string, contentHash: string): Promise<void>;
  get(userId: string, jobId: string): Promise<Job | undefined>;
  /** The user's jobs, newest first; with `status`, only those (a page may then be short). */
  list(userId: string, page: PageRequest & { status?: JobStatus }): Promise<Page<Job>>;
  /**
   * Cancels a job that is still queued; but for one holding a pending batch (a failed batch
   * job asked for again), which must collect it to end: it is asked to stop (requestCancel).
   * @returns the job as it is now (`cancelled`, or the status that kept it from being cancelled); undefined when there is none
   */
  cancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined>;
  /**
   * Asks the worker running the job to stop it: sets `cancelRequestedAt` on a `running` job,
   * or a `queued` one holding a pending batch (its run cancels the batch upstream, bills what
   * it processed, and ends it), unless it is set already (a repeat keeps the first).
   * @returns the job as it is now (with `cancelRequestedAt`, or the status that kept it from being asked); undefined when there is none
   */
  requestCancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined>;
  /**
   * Keeps on the job the deliveries that failed before the copy of its message put back, which
   * that copy could not carry (a producer's message with all ten attributes SQS allows, or no
   * room left under the size limit); 0 clears them. A job there is not is left so.
   */
  recordFailedDeliveries(userId: string, jobId: string, failedDeliveries: number): Promise<void>;
  /** Whether the job's user asked to cancel it (read alone: the worker looks every second). */
  cancelRequested(userId: string, jobId: string): Promise<boolean>;
  /**
   * Ends a job whose cancel was asked (`running`, `queued` for its retry, or `dead_lettered` and
   * redriven) as `cancelled`,
   * with its spend when given; a job ended otherwise, or not asked to cancel, is left as it is.
   * @returns the job as it ended, or undefined when this call did not end it
   */
  markCancelled(
    userId: string,
    jobId: string,
    spent: { usage: TokenUsage; costNanoUsd: number } | undefined,
    nowIso: string,
  ): Promise<Job | undefined>;
  /**
   * Puts a job that failed, or was cancelled, back to `queued` for another run, its error
   * and `cancelRequestedAt` cleared; its attempts and checkpoints are kept.
   * @returns the job as it is now (`queued`, or the status that kept it from running again); undefined when there is none
   */
  requeue(userId: string, jobId: string, nowIso: string): Promise<Job | undefined>;
  /**
   * Marks the job running and counts an attempt, unless it was cancelled or its cancel asked
   * (but for a job with a pending batch, which it must collect to end).
   * @returns false when the job is cancelled, or asked to be (it must not run)
   */
  markRunning(userId: string, jobId: string, nowIso: string): Promise<boolean>;
  /**
   * Ends the job as succeeded; its `result` holds the summary, when one is given to keep.
   * A job whose cancel was asked meanwhile is left as it is (its cancel answered 202), unless
   * its work is `done` where no cancel can undo it (a compaction's summary, saved in its conversation).
   * @returns false when its cancel was asked (nothing is written)
   * @throws PayloadTooLargeError when the job's item cannot hold the summary
   */
  markSucceeded(
    userId: string,
    jobId: string,
    outcome: {
      summary?: string;
      truncated?: boolean;
      usage: TokenUsage;
      costNanoUsd: number;
      done?: boolean;
    },
    nowIso: string,
  ): Promise<boolean>;
  /**
   * Ends the job as failed, or dead-lettered when its message went to the dead-letter queue.
   * A pending batch is kept: it still runs upstream, and a redrive collects it. Nothing
   * updates a dead-lettered job until a redrive runs it: its `updatedAt` says when.
   * A job whose cancel was asked meanwhile is left as it is (its cancel answered 202: it ends
   * cancelled), unless it holds a pending batch, which only a run can collect and bill.
   * @returns false when its cancel was asked (nothing is written)
   */
  markFailed(
    userId: string,
    jobId: string,
    ending: { status: JobFailedStatus; error: { type: string; message: string } },
    nowIso: string,
  ): Promise<boolean>;
  /**
   * Puts a running job whose attempt failed back to `queued` until its retry, with that
   * attempt's error. A job no longer running (cancelled meanwhile) is left as it is, and
   * so is one with a pending batch: it is still under way, and must not be cancelled; and so
   * is one whose cancel was asked (answered 202, it ends cancelled now, not after the retry's delay).
   * @returns `queued` when it was put back; `cancel_asked` when its cancel was asked (running,
   *   no batch: end it cancelled); `left` otherwise
   */
  markRetrying(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<'queued' | 'cancel_asked' | 'left'>;
  /** Records the usage and cost of the job so far (an attempt ended without finishing it). */
  recordSpend(
    userId: string,
    jobId: string,
    spent: { usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void>;
  /** Notes a message that claimed this job's id with other content; nothing else changes. */
  recordConflict(userId: string, jobId: string, message: string, nowIso: string): Promise<void>;
  /**
   * Keeps a model call's result, with the job's progress and spend so far, in one write.
   * @throws PayloadTooLargeError when one item cannot hold the result
   */
  saveCheckpoint(
    userId: string,
    jobId: string,
    checkpoint: JobCheckpoint,
    state: { progress: JobProgress; usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void>;
  /** Every checkpoint of the job, by key. */
  checkpoints(userId: string, jobId: string): Promise<Map<string, KeptAnswer>>;
  /** Deletes the job's checkpoints (what it said along the way), or only those of `keys`. */
  forgetCheckpoints(userId: string, jobId: string, keys?: readonly string[]): Promise<void>;
  /**
   * Records the job's spend so far, its pending batch's included, and marks that batch
   * counted, in one write: a job collecting the batch again after a failure counts it once.
   * @returns false when `batchId` is not the job's pending batch (nothing is written)
   */
  countBatch(
    userId: string,
    jobId: string,
    batchId: string,
    spent: { usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<boolean>;
  /** Sets (or, with undefined, clears) the job's pending batch. */
  setBatch(
    userId: string,
    jobId: string,
    batch: PendingBatch | undefined,
    nowIso: string,
  ): Promise<void>;
}
