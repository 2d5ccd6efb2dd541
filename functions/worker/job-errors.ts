import { BudgetExceededError, ModelError, ValidationError } from '../../shared/domain/errors.js';

/** A job that can never succeed, whatever the number of retries. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface JobFailure {
  type: string;
  message: string;
  /** Retrying may succeed (throttling, overload, outages). */
  retryable: boolean;
  /** The message itself is at fault: keep it in the dead-letter queue for a person. */
  deadLetter: boolean;
}

/** Classifies a job's failure: retry later, fail the job, or dead-letter the message. */
export function classifyFailure(error: unknown): JobFailure {
  if (error instanceof BudgetExceededError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: false };
  }
  if (error instanceof PermanentJobError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: true };
  }
  if (error instanceof ValidationError) {
    return { type: error.type, message: error.message, retryable: false, deadLetter: true };
  }
  if (error instanceof ModelError) {
    return {
      type: error.type,
      message: error.message,
      retryable: error.kind !== 'invalid_request',
      deadLetter: error.kind === 'invalid_request',
    };
  }
  return {
    type: 'api_error',
    message: 'the job failed unexpectedly',
    retryable: true,
    deadLetter: false,
  };
}

/** Seconds a throttled job waits before its next attempt: doubling, at most 15 minutes. */
export function retryDelaySeconds(baseSeconds: number, receiveCount: number): number {
  return Math.min(900, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
}
