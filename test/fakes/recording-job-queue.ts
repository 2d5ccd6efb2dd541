import type { JobMessage } from '../../shared/jobs/job-message.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

/** The JobQueue port that keeps every message sent, as the worker would receive it. */
export class RecordingJobQueue implements JobQueue {
  /** Messages in the order sent, each a copy as it was at send time (JSON, like SQS). */
  readonly sent: Array<JobMessage & { jobId: string }> = [];

  async send(message: JobMessage & { jobId: string }): Promise<void> {
    this.sent.push(JSON.parse(JSON.stringify(message)));
  }
}
