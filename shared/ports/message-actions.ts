/** A message attribute as Lambda's SQS event carries it (binary values base64-encoded). */
export interface QueueMessageAttribute {
  dataType: string;
  stringValue?: string | undefined;
  binaryValue?: string | undefined;
}

/** A jobs-queue message as the worker received it. */
export interface QueueMessage {
  body: string;
  /**
   * The producer's message attributes (ours: the job's `type`), kept on every copy; but
   * `failureReason` and `failedDeliveries`, which are the worker's: each dead-lettering says
   * its own reason, and each copy put back its own count.
   */
  attributes: Readonly<Record<string, QueueMessageAttribute>>;
}

/** What the worker does to a jobs-queue message it hands back to SQS or gives up on. */
export interface MessageActions {
  /** Makes a failed message visible again only after `seconds`. */
  delayRetry(receiptHandle: string, seconds: number): Promise<void>;
  /**
   * Puts the message on the queue again, delivered after `delaySeconds` (at most 900) as
   * a new message: the one in hand is then done with. A job waiting on something outside
   * (a batch) comes back this way without its receive count growing; the deliveries that
   * failed before go with it as FAILED_DELIVERIES_ATTRIBUTE (when greater than 0, and when
   * the message has room for one more attribute), and count toward the dead-letter limit.
   */
  requeue(message: QueueMessage, delaySeconds: number, failedDeliveries?: number): Promise<void>;
  /**
   * Moves a message that can never succeed to the dead-letter queue at once, with its
   * attributes and the reason (cut to the room left, and left off when the message has
   * as many attributes as SQS allows).
   */
  deadLetter(message: QueueMessage, reason: string): Promise<void>;
}
