/**
 * The jobs queue and its event-source mapping: one definition for the CDK stack and
 * the local stack, so redrive and batching behave the same in both.
 */
export const JOBS_QUEUE_DEFINITION = {
  /** Deliveries before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Worker function timeout. */
  workerTimeoutSeconds: 120,
  /** AWS recommends at least 6x the function timeout plus the batching window. */
  visibilityTimeoutSeconds: 721,
  /** Messages per worker invocation. */
  batchSize: 5,
  /** How long the event source waits to fill a batch. */
  maxBatchingWindowSeconds: 1,
  /** Dead letters are kept for the longest SQS allows, to be inspected and redriven. */
  deadLetterRetentionDays: 14,
  /** Largest message the queue takes (body and attributes), in bytes: SQS's maximum, 1 MiB. */
  maxMessageBytes: 1_048_576,
} as const;
