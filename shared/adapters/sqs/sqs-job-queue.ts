import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobMessage } from '../../jobs/job-message.js';
import {
  encodeJobMessage,
  JOB_TYPE_ATTRIBUTE,
  jobMessageBytes,
  messageTooLarge,
} from '../../jobs/message-size.js';
import { ASKED_AT_ATTRIBUTE } from '../../jobs/queue-definition.js';
import type { JobQueue } from '../../ports/job-queue.js';

/** The JobQueue port on SQS. */
export class SqsJobQueue implements JobQueue {
  /** @param maxMessageBytes the queue's MaximumMessageSize */
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly maxMessageBytes: number,
  ) {}

  async send(
    message: JobMessage & { jobId: string },
    options: { askedAt?: string } = {},
  ): Promise<void> {
    const attributes: Record<string, string> = {
      [JOB_TYPE_ATTRIBUTE]: message.type,
      ...(options.askedAt && { [ASKED_AT_ATTRIBUTE]: options.askedAt }),
    };
    const bytes = jobMessageBytes(message, attributes);
    // Checked here rather than left to SQS: its refusal names no limit, and emulators differ.
    if (bytes > this.maxMessageBytes) throw messageTooLarge(bytes, this.maxMessageBytes);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeJobMessage(message),
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  }
}
