import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobMessage } from '../../jobs/job-message.js';
import type { JobQueue } from '../../ports/job-queue.js';

/** The JobQueue port on SQS. */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: JobMessage & { jobId: string }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { type: { DataType: 'String', StringValue: message.type } },
      }),
    );
  }
}
