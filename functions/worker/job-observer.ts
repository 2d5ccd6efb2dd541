import type { TokenUsage } from '../../shared/domain/usage.js';
import type { eventNamed } from '../../shared/events/producer-events.js';
import type { JobStatus } from '../../shared/ports/job-store.js';
import type { JobFailure } from './job-errors.js';

/**
 * What the worker reports for operators, in its own words; the composition root maps
 * these to Powertools metrics and log lines.
 */
export interface JobObserver {
  /** A message that can never be processed was dead-lettered. */
  invalidMessage(details: { messageId: string; reason: string }): void;
  /**
   * One model call of a job, as the ledger counted it in the deployment's month: its exact
   * cost, but for what a failed settle left to the sweep (jobs spend from chat's budget).
   */
  modelCall(usage: TokenUsage, costNanoUsd: number): void;
  /**
   * A call cost more than the worst case reserved for it: the job, its principal, its API key
   * (if one asked for it) and the reservation, for the operator to find it by.
   */
  budgetOverrun(details: {
    overrunNanoUsd: number;
    jobId: string;
    userId: string;
    apiKeyId?: string;
    reservationId: string;
  }): void;
  succeeded(details: {
    jobId: string;
    userId: string;
    type: string;
    usage: TokenUsage;
    costNanoUsd: number;
    durationMs: number;
  }): void;
  /** A running job ended cancelled, as its user asked: what it spent until it stopped. */
  cancelled(details: {
    jobId: string;
    userId: string;
    type: string;
    usage?: TokenUsage;
    costNanoUsd: number;
  }): void;
  /** A cancelled job's batch could not be cancelled upstream: it is tried again at the next look. */
  batchNotCancelled(details: {
    jobId: string;
    userId: string;
    batchId: string;
    error: unknown;
  }): void;
  attemptFailed(details: {
    jobId: string;
    userId: string;
    receiveCount: number;
    failure: JobFailure;
    error: unknown;
  }): void;
  /** A job ended as failed for good. */
  failed(): void;
  /**
   * A model call's settlement could not be written: what it could not write keeps holding
   * the worst case until the reservation expires, then the sweep settles it to the call's cost.
   */
  settlementFailed(details: {
    reservationId: string;
    jobId: string;
    userId: string;
    error: unknown;
  }): void;
  /**
   * A model call's usage record could not be stored (its cost is in the ledger all the same):
   * the job's `job succeeded` line has its figures.
   */
  usageNotRecorded(error: unknown, call: { jobId: string; userId: string }): void;
  /**
   * An event could not be published (the job's outcome is recorded all the same): which one,
   * when it was one (a budget check after a job's spend: {@link budgetCheckAfter}).
   */
  notPublished(error: unknown, event?: ReturnType<typeof eventNamed>): void;
  /** A compaction's checkpoints could not be deleted: they expire with the job. */
  checkpointsNotForgotten(error: unknown): void;
  /** A job waits for its batch; its message comes back later. */
  deferred(details: { jobId: string; userId: string; delaySeconds: number }): void;
  /** A message that claimed an existing job's id with other content was refused. */
  conflict(details: { jobId: string; userId: string }): void;
  /** A dead-lettered job's message came back (a redrive): the job runs again. */
  redriven(details: { jobId: string; userId: string }): void;
  /**
   * The worker failed on a message outside the job's own attempt (the table or the queue
   * failing, a permission missing, a bug): SQS delivers it again, and dead-letters it after
   * its last delivery.
   */
  recordFailed(details: {
    messageId: string;
    /** The job and user the message names, when it names them. */
    jobId?: string;
    userId?: string;
    receiveCount: number;
    error: unknown;
  }): void;
  /**
   * A message for a job that had already ended was dropped: a duplicate, or its producer
   * sending it again (a job runs once; a dead-lettered one again only for a message sent
   * since it was dead-lettered).
   */
  alreadyEnded(details: {
    jobId: string;
    userId: string;
    status: JobStatus;
    receiveCount: number;
  }): void;
}

/**
 * A budget check after a job's spend that failed, as the log names it: the thresholds of its
 * user and of the deployment it may have left unannounced (the minute sweep checks them again).
 */
export const budgetCheckAfter = (job: {
  jobId: string;
  userId: string;
}): ReturnType<typeof eventNamed> => ({
  type: 'budget.threshold',
  jobId: job.jobId,
  userId: job.userId,
});
