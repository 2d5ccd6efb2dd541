import { describe } from 'vitest';
import { jobQueueContract } from '../../contracts/job-queue.contract.js';
import { RecordingJobQueue } from '../../fakes/recording-job-queue.js';

describe('RecordingJobQueue', () => {
  jobQueueContract(async () => {
    const queue = new RecordingJobQueue();
    return { queue, delivered: async () => queue.sent };
  });
});
