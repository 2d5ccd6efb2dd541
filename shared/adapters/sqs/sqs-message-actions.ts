import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { utf8Bytes } from '../../domain/tokens.js';
import { queueSafe } from '../../jobs/message-size.js';
import { MAX_RETRY_DELAY_SECONDS } from '../../jobs/queue-age.js';
import { FAILED_DELIVERIES_ATTRIBUTE } from '../../jobs/queue-definition.js';
import type {
  MessageActions,
  QueueMessage,
  QueueMessageAttribute,
} from '../../ports/message-actions.js';

const REASON_ATTRIBUTE = 'failureReason';
/** The worker's own attributes: never copied from the message in hand. */
const WORKER_ATTRIBUTES: ReadonlySet<string> = new Set([
  REASON_ATTRIBUTE,
  FAILED_DELIVERIES_ATTRIBUTE,
]);
const REASON_MAX_CHARS = 1_000;
/** SQS refuses a message with more. */
const MAX_ATTRIBUTES = 10;

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

  async requeue(message: QueueMessage, delaySeconds: number, failedDeliveries = 0): Promise<void> {
    const { MessageAttributes = {} } = attributesOf(message);
    const count = String(failedDeliveries);
    // The count takes room only if there is some: the copy must never be refused.
    const room =
      this.maxMessageBytes -
      messageBytes(message) -
      utf8Bytes(FAILED_DELIVERIES_ATTRIBUTE) -
      utf8Bytes('Number');
    if (
      failedDeliveries > 0 &&
      utf8Bytes(count) <= room &&
      Object.keys(MessageAttributes).length < MAX_ATTRIBUTES
    ) {
      MessageAttributes[FAILED_DELIVERIES_ATTRIBUTE] = { DataType: 'Number', StringValue: count };
    }
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: message.body,
        ...(Object.keys(MessageAttributes).length > 0 && { MessageAttributes }),
        DelaySeconds: Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }

  async deadLetter(message: QueueMessage, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) {
      throw new Error(
        'DEAD_LETTER_QUEUE_URL is not set: cannot move a message that can never succeed',
      );
    }
    const { MessageAttributes = {} } = attributesOf(message);
    // The message came within the limit with its own attributes; the reason takes what room
    // is left, if any, so that the copy is never refused (it would be retried for ever).
    const room =
      this.maxMessageBytes -
      messageBytes(message) -
      utf8Bytes(REASON_ATTRIBUTE) -
      utf8Bytes('String');
    const said = fitted(queueSafe(reason.slice(0, REASON_MAX_CHARS)), room);
    if (said && Object.keys(MessageAttributes).length < MAX_ATTRIBUTES) {
      MessageAttributes[REASON_ATTRIBUTE] = { DataType: 'String', StringValue: said };
    }
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: message.body,
        ...(Object.keys(MessageAttributes).length > 0 && { MessageAttributes }),
      }),
    );
  }
}

/**
 * The message's attributes, as SendMessage takes them; but not the worker's own: the reason
 * an earlier dead-lettering gave it (a redriven message carries it; a copy never says a stale
 * why), nor the failed deliveries a copy put back carries (each copy says its own count, and
 * a dead-lettered one, redriven, starts again).
 */
function attributesOf(message: QueueMessage): {
  MessageAttributes?: Record<string, MessageAttributeValue>;
} {
  const entries = Object.entries(message.attributes).filter(
    ([name]) => !WORKER_ATTRIBUTES.has(name),
  );
  if (entries.length === 0) return {};
  return {
    MessageAttributes: Object.fromEntries(
      entries.map(([name, attribute]) => [name, attributeValue(attribute)]),
    ),
  };
}

function attributeValue(attribute: QueueMessageAttribute): MessageAttributeValue {
  return {
    DataType: attribute.dataType,
    ...(attribute.stringValue !== undefined && { StringValue: attribute.stringValue }),
    ...(attribute.binaryValue !== undefined && {
      BinaryValue: Buffer.from(attribute.binaryValue, 'base64'),
    }),
  };
}

/** What a copy of the message weighs against the size limit, as SQS counts it. */
function messageBytes(message: QueueMessage): number {
  let bytes = utf8Bytes(message.body);
  for (const [name, attribute] of Object.entries(message.attributes)) {
    if (WORKER_ATTRIBUTES.has(name)) continue;
    bytes += utf8Bytes(name) + utf8Bytes(attribute.dataType);
    if (attribute.stringValue !== undefined) bytes += utf8Bytes(attribute.stringValue);
    if (attribute.binaryValue !== undefined) {
      bytes += Buffer.byteLength(attribute.binaryValue, 'base64');
    }
  }
  return bytes;
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
