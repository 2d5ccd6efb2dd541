import { queueSafe } from '../../shared/jobs/message-size.js';
import type { MessageActions, QueueMessage } from '../../shared/ports/message-actions.js';

/** The MessageActions port that records what the worker did to each message. */
export class RecordingMessageActions implements MessageActions {
  /** Every delayed retry, in order. */
  readonly retries: Array<{ receiptHandle: string; seconds: number }> = [];
  /** Every message put on the queue again, in order. */
  readonly requeued: Array<QueueMessage & { delaySeconds: number }> = [];
  /** Every dead-lettered message, in order; the reason cut, and made safe, as SQS message attributes keep it. */
  readonly deadLettered: Array<QueueMessage & { reason: string }> = [];

  /** @param options.deadLetterQueue false: no dead-letter queue is configured, as the adapter can be */
  constructor(private readonly options: { deadLetterQueue?: boolean } = {}) {}

  async delayRetry(receiptHandle: string, seconds: number): Promise<void> {
    this.retries.push({ receiptHandle, seconds });
  }

  async requeue(message: QueueMessage, delaySeconds: number, failedDeliveries = 0): Promise<void> {
    const copy = copyOf(message);
    this.requeued.push({
      body: copy.body,
      attributes: {
        ...copy.attributes,
        // Room for it as SQS allows: 10 attributes at most (the size limit is the adapter's).
        ...(failedDeliveries > 0 &&
          Object.keys(copy.attributes).length < 10 && {
            failedDeliveries: { dataType: 'Number', stringValue: String(failedDeliveries) },
          }),
      },
      delaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))),
    });
  }

  async deadLetter(message: QueueMessage, reason: string): Promise<void> {
    if (this.options.deadLetterQueue === false) {
      throw new Error(
        'DEAD_LETTER_QUEUE_URL is not set: cannot move a message that can never succeed',
      );
    }
    this.deadLettered.push({ ...copyOf(message), reason: queueSafe(reason.slice(0, 1000)) });
  }
}

/** A copy as the adapter sends it: without the worker's own attributes, which each copy says anew. */
function copyOf(message: QueueMessage): QueueMessage {
  const {
    failureReason: _,
    failedDeliveries: __,
    ...attributes
  } = structuredClone(message.attributes);
  return { body: message.body, attributes };
}
