import type { JobMessage } from '../jobs/job-message.js';

/** Where producers (and the chat function) put work for the worker. */
export interface JobQueue {
  /** @throws PayloadTooLargeError when the message is over the queue's size limit; nothing is sent */
  send(message: JobMessage & { jobId: string }): Promise<void>;
}
