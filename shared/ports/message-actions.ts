/** What the worker does to a jobs-queue message it hands back to SQS or gives up on. */
export interface MessageActions {
  /** Makes a failed message visible again only after `seconds`. */
  delayRetry(receiptHandle: string, seconds: number): Promise<void>;
  /**
   * Puts the message on the queue again, delivered after `delaySeconds` (at most 900) as
   * a new message: the one in hand is then done with. A job waiting on something outside
   * (a batch) comes back this way without its receive count growing.
   */
  requeue(body: string, delaySeconds: number): Promise<void>;
  /** Moves a message that can never succeed to the dead-letter queue at once. */
  deadLetter(body: string, reason: string): Promise<void>;
}
