import {
  BudgetExceededError,
  ModelError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../shared/domain/errors.js';
import { MAX_RETRY_DELAY_SECONDS } from '../../shared/jobs/queue-age.js';

/** A job that can never succeed, whatever the number of retries. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(
    readonly type: string,
    message: string,
    /** false: its message is fine (the model's answer is at fault), and pages no one. */
    readonly deadLetter = true,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Not a failure: the job waits for something outside the function (a batch), and its
 * message should come back after `delaySeconds` to look again.
 */
export class JobDeferredError extends Error {
  override readonly name = 'JobDeferredError';
  constructor(readonly delaySeconds: number) {
    super(`the job waits; it is looked at again in ${delaySeconds} s`);
  }
}

/** The job was cancelled before it started: its message is dropped. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}

export interface JobFailure {
  type: string;
  message: string;
  /** Retrying may succeed (throttling, overload, outages). */
  retryable: boolean;
  /** The message itself is at fault: keep it in the dead-letter queue for a person. */
  deadLetter: boolean;
  /** The provider asked for this wait before trying again. */
  retryAfterSeconds?: number;
  /**
   * Retried while deliveries last, then the job fails, its message deleted: nothing is
   * wrong with it, and the dead-letter queue would page someone for nothing.
   */
  failsWhenRetriesRunOut?: boolean;
}

/**
 * How long a job refused for what calls in flight hold waits before it tries again: four
 * waits span 20 minutes, as long as most calls take (a batch's hold may last a day).
 */
const HELD_BUDGET_RETRY_SECONDS = 300;

/** Classifies a job's failure: retry later, fail the job, or dead-letter the message. */
export function classifyFailure(error: unknown): JobFailure {
  // Refused only for what other calls hold while they run: they settle, and it may fit then.
  if (error instanceof BudgetExceededError && error.heldByCallsInFlight) {
    return {
      type: error.type,
      message: error.message,
      retryable: true,
      deadLetter: false,
      retryAfterSeconds: HELD_BUDGET_RETRY_SECONDS,
      failsWhenRetriesRunOut: true,
    };
  }
  // Over budget, or its conversation deleted (an ordinary act of its user): the job ends
  // failed, and its message, which is fine, does not page anyone from the dead-letter queue.
  if (error instanceof BudgetExceededError || error instanceof NotFoundError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: false };
  }
  // A result too large to store (its model call paid already) is too large on every retry,
  // which would pay for it again: the job ends failed. Its message is fine.
  if (error instanceof PayloadTooLargeError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: false };
  }
  if (error instanceof PermanentJobError) {
    return {
      type: error.type,
      message: error.message,
      retryable: false,
      deadLetter: error.deadLetter,
    };
  }
  if (error instanceof ValidationError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: true };
  }
  if (error instanceof ModelError) {
    // Refused for what it asked (the prompt, the model): the same on every retry.
    const refused = error.kind === 'invalid_request' || error.kind === 'model_unavailable';
    return {
      type: error.type,
      message: error.message,
      retryable: !refused,
      deadLetter: refused,
      ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  return {
    type: 'api_error',
    message: 'the job failed unexpectedly',
    retryable: true,
    deadLetter: false,
  };
}

/**
 * Seconds a throttled job waits before its next attempt: doubling from `baseSeconds`, and
 * at least the provider's retry-after when it gave one; at most 15 minutes (the queue-age alarm
 * counts on it: shared/jobs/queue-age.ts). The retry-after
 * is when the provider may take one more request, not when a limit that lasts is over: the
 * Anthropic API sends `retry-after: 1` or so with each 429, and waited alone it would spend
 * the job's deliveries in seconds, dead-lettering it, while its rate limit lasts a minute.
 */
export function retryDelaySeconds(
  baseSeconds: number,
  receiveCount: number,
  retryAfterSeconds?: number,
): number {
  const backOffSeconds = baseSeconds * 2 ** Math.max(0, receiveCount - 1);
  const askedSeconds = retryAfterSeconds === undefined ? 0 : Math.ceil(retryAfterSeconds);
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(1, backOffSeconds, askedSeconds));
}
