import type { JobMessage } from '../../shared/jobs/job-message.js';
import {
  encodeJobMessage,
  jobMessageBytes,
  messageTooLarge,
} from '../../shared/jobs/message-size.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

/** The JobQueue port that keeps every message sent, as the worker would receive it. */
export class RecordingJobQueue implements JobQueue {
  /** Messages in the order sent, each a copy as it was at send time (JSON, like SQS). */
  readonly sent: Array<JobMessage & { jobId: string }> = [];

  constructor(private readonly maxMessageBytes: number = JOBS_QUEUE_DEFINITION.maxMessageBytes) {}

  async send(message: JobMessage & { jobId: string }): Promise<void> {
    const bytes = jobMessageBytes(message);
    if (bytes > this.maxMessageBytes) throw messageTooLarge(bytes, this.maxMessageBytes);
    this.sent.push(JSON.parse(encodeJobMessage(message)));
  }
}
