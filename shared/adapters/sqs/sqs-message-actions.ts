import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MessageActions } from '../../ports/message-actions.js';

/** Back-off and dead-lettering for messages of the jobs queue. */
export class SqsMessageActions implements MessageActions {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string | undefined,
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
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          failureReason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
        },
      }),
    );
  }
}
