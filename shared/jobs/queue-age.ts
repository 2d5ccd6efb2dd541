import { JOBS_QUEUE_DEFINITION } from './queue-definition.js';

/**
 * The longest a job waits between two deliveries of its message: a retry's back-off
 * (`jobRetryBaseSeconds` doubled), the provider's `retry-after`, a held budget's or a batch's
 * wait, each cut to this; SQS's own limit on a message's `DelaySeconds`.
 */
export const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * Receives of a message that SQS's `ApproximateAgeOfOldestMessage` counts it through: a message
 * of a standard queue received three times and not deleted is moved to the back of the queue
 * and left out of the metric until it is deleted, redrive policy or not.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
const RECEIVES_COUNTED_IN_QUEUE_AGE = 2;

/**
 * The oldest a message of a job that only waits (its retries' back-off, its batch's next look)
 * can be in the jobs queue's `ApproximateAgeOfOldestMessage`, in seconds. Its age runs from the
 * message's send (SQS keeps the first enqueue time through every change of its visibility), and
 * SQS counts it until its third receive: a batch job's copy, sent with `batchPollSeconds` of
 * delay, then two attempts that each run out the worker's timeout and wait the longest retry,
 * each receive after the event source's batching window. Any older message waits for a worker
 * that does not take it.
 */
export function longestJobWaitSeconds(limits: {
  batchPollSeconds: number;
  workerTimeoutSeconds: number;
}): number {
  const { maxBatchingWindowSeconds } = JOBS_QUEUE_DEFINITION;
  return (
    limits.batchPollSeconds +
    RECEIVES_COUNTED_IN_QUEUE_AGE * (limits.workerTimeoutSeconds + MAX_RETRY_DELAY_SECONDS) +
    (RECEIVES_COUNTED_IN_QUEUE_AGE + 1) * maxBatchingWindowSeconds
  );
}

const FIVE_MINUTES = 300;

/**
 * The queue-age alarm's threshold when none is set: {@link longestJobWaitSeconds} rounded up to
 * five minutes (the alarm's period), and five minutes more.
 */
export function defaultJobsQueueAgeAlarmSeconds(limits: {
  batchPollSeconds: number;
  workerTimeoutSeconds: number;
}): number {
  return Math.ceil(longestJobWaitSeconds(limits) / FIVE_MINUTES) * FIVE_MINUTES + FIVE_MINUTES;
}
