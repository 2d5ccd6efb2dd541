import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobMessage } from '../../jobs/job-message.js';
import {
  encodeJobMessage,
  JOB_TYPE_ATTRIBUTE,
  jobMessageBytes,
  messageTooLarge,
} from '../../jobs/message-size.js';
import type { JobQueue } from '../../ports/job-queue.js';

/** The JobQueue port on SQS. */
export class SqsJobQueue implements JobQueue {
  /** @param maxMessageBytes the queue's MaximumMessageSize */
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly maxMessageBytes: number,
  ) {}

  async send(message: JobMessage & { jobId: string }): Promise<void> {
    const bytes = jobMessageBytes(message);
    // Checked here rather than left to SQS: its refusal names no limit, and emulators differ.
    if (bytes > this.maxMessageBytes) throw messageTooLarge(bytes, this.maxMessageBytes);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeJobMessage(message),
        MessageAttributes: {
          [JOB_TYPE_ATTRIBUTE]: { DataType: 'String', StringValue: message.type },
        },
      }),
    );
  }
}
