import type { JobMessage } from '../jobs/job-message.js';

/** Where producers (and the chat function) put work for the worker. */
export interface JobQueue {
  /**
   * @param options.askedAt when the job was recorded queued for this message (ISO), if it was:
   *   the worker does not take a message asked for before the job's end to ask for it again
   * @throws PayloadTooLargeError when the message is over the queue's size limit; nothing is sent
   */
  send(message: JobMessage & { jobId: string }, options?: { askedAt?: string }): Promise<void>;
}
