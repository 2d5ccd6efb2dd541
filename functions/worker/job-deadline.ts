import type { Context } from 'aws-lambda';
import type { Clock } from '../../shared/domain/clock.js';

/**
 * The time a job attempt has: its invocation's, less a margin to record the outcome
 * (settle, checkpoint, hand the message back) before Lambda stops the function.
 */
export interface JobDeadline {
  /** Aborts every model call of the attempt when the time is up. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the signal aborts; Infinity without a deadline. */
  remainingMs(): number;
  /** Epoch milliseconds when the invocation itself ends (its reservations may be reclaimed after). */
  readonly invocationEndsAtMs: number;
}

/** No deadline: unit tests, and callers outside Lambda. */
export const NO_DEADLINE: JobDeadline = {
  signal: new AbortController().signal,
  remainingMs: () => Number.POSITIVE_INFINITY,
  invocationEndsAtMs: Number.POSITIVE_INFINITY,
};

/** The deadline of one invocation, `marginMs` before its end. */
export function deadlineOf(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  marginMs: number,
  clock: Clock,
): JobDeadline {
  if (!context) return NO_DEADLINE;
  const now = clock();
  const invocationEndsAtMs = now + context.getRemainingTimeInMillis();
  const abortAtMs = invocationEndsAtMs - marginMs;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('the invocation is about to time out')),
    Math.max(0, abortAtMs - now),
  );
  // Never keeps the process alive on its own (a finished invocation leaves it pending).
  timer.unref?.();
  return {
    signal: controller.signal,
    remainingMs: () => Math.max(0, abortAtMs - clock()),
    invocationEndsAtMs,
  };
}
