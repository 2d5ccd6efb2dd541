/**
 * The jobs queue and its event-source mapping: one definition for the CDK stack and
 * the local stack, so redrive and batching behave the same in both.
 */
export const JOBS_QUEUE_DEFINITION = {
  /** Deliveries before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Worker function timeout, unless the stack's `workerTimeoutSeconds` sets another. */
  workerTimeoutSeconds: 120,
  /** Messages per worker invocation. */
  batchSize: 5,
  /** How long the event source waits to fill a batch. */
  maxBatchingWindowSeconds: 1,
  /**
   * How long a job waits on the queue before SQS deletes it unseen: SQS's default, set
   * explicitly so that the queue-age alarm's threshold can be kept below it.
   */
  retentionDays: 4,
  /** Dead letters are kept for the longest SQS allows, to be inspected and redriven. */
  deadLetterRetentionDays: 14,
  /** Largest message the queue takes (body and attributes), in bytes: SQS's maximum, 1 MiB. */
  maxMessageBytes: 1_048_576,
} as const;

/**
 * The jobs queue's visibility timeout for a worker timeout: six of them plus the batching
 * window, as AWS advises for a queue a Lambda function consumes (721 s for the default 120 s).
 */
export const visibilityTimeoutFor = (workerTimeoutSeconds: number) =>
  6 * workerTimeoutSeconds + JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds;

/**
 * The worker's own attribute on a copy of a message it put back on the queue (a batch job
 * following its batch): how many deliveries of the copies before it failed. A copy is a new
 * message whose receive count starts again at 1: without it, a batch job failing a delivery
 * in each copy would never run out of retries.
 */
export const FAILED_DELIVERIES_ATTRIBUTE = 'failedDeliveries';

/**
 * The chat function's own attribute on a message it sends for `POST /v1/jobs` or a conversation's
 * compaction: when it recorded the job queued (an ISO time), before the send. A job cancelled (or
 * failed) after it was asked for so is not run again by this message, though it was sent after:
 * the cancel came last.
 */
export const ASKED_AT_ATTRIBUTE = 'askedAt';
