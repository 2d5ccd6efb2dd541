import type { JobMessage } from '../jobs/job-message.js';

/** Where producers (and the chat function) put work for the worker. */
export interface JobQueue {
  send(message: JobMessage & { jobId: string }): Promise<void>;
}
