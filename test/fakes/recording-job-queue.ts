import type { JobMessage } from '../../shared/jobs/job-message.js';
import {
  encodeJobMessage,
  JOB_TYPE_ATTRIBUTE,
  jobMessageBytes,
  messageTooLarge,
} from '../../shared/jobs/message-size.js';
import { ASKED_AT_ATTRIBUTE, JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

/** The JobQueue port that keeps every message sent, as the worker would receive it. */
export class RecordingJobQueue implements JobQueue {
  /** Messages in the order sent, each a copy as it was at send time (JSON, like SQS). */
  readonly sent: Array<JobMessage & { jobId: string }> = [];
  /** When each message sent (in the same order) said its job was asked for, if it did. */
  readonly askedAt: Array<string | undefined> = [];

  constructor(private readonly maxMessageBytes: number = JOBS_QUEUE_DEFINITION.maxMessageBytes) {}

  async send(
    message: JobMessage & { jobId: string },
    options: { askedAt?: string } = {},
  ): Promise<void> {
    const bytes = jobMessageBytes(message, {
      [JOB_TYPE_ATTRIBUTE]: message.type,
      ...(options.askedAt && { [ASKED_AT_ATTRIBUTE]: options.askedAt }),
    });
    if (bytes > this.maxMessageBytes) throw messageTooLarge(bytes, this.maxMessageBytes);
    this.sent.push(JSON.parse(encodeJobMessage(message)));
    this.askedAt.push(options.askedAt);
  }
}
