/** What the worker does to a jobs-queue message it hands back to SQS or gives up on. */
export interface MessageActions {
  /** Makes a failed message visible again only after `seconds`. */
  delayRetry(receiptHandle: string, seconds: number): Promise<void>;
  /** Moves a message that can never succeed to the dead-letter queue at once. */
  deadLetter(body: string, reason: string): Promise<void>;
}
