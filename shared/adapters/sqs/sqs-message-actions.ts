import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { utf8Bytes } from '../../domain/tokens.js';
import type { MessageActions } from '../../ports/message-actions.js';

const REASON_ATTRIBUTE = 'failureReason';
const REASON_MAX_CHARS = 1_000;

/** Back-off and dead-lettering for messages of the jobs queue. */
export class SqsMessageActions implements MessageActions {
  /** @param maxMessageBytes the dead-letter queue's MaximumMessageSize, attributes included */
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string | undefined,
    private readonly maxMessageBytes: number,
  ) {}

  async delayRetry(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  async requeue(body: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }

  async deadLetter(body: string, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) {
      throw new Error(
        'DEAD_LETTER_QUEUE_URL is not set: cannot move a message that can never succeed',
      );
    }
    // The body came within the limit with its own attributes; the reason takes what room is
    // left, if any, so that the copy is never refused (the message would be retried for ever).
    const room =
      this.maxMessageBytes - utf8Bytes(body) - utf8Bytes(REASON_ATTRIBUTE) - utf8Bytes('String');
    const said = fitted(reason.slice(0, REASON_MAX_CHARS), room);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: body,
        ...(said && {
          MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: said } },
        }),
      }),
    );
  }
}

/** As much of `text` as fits in `maxBytes` of UTF-8, cut between characters. */
function fitted(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // UTF-8 continuation bytes are 10xxxxxx: back off to the start of a character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
