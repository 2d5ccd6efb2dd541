import type { Clock } from '../../../shared/domain/clock.js';
import { compactionJobId } from '../../../shared/jobs/job-id.js';
import type { JobQueue } from '../../../shared/ports/job-queue.js';
import type { JobStore } from '../../../shared/ports/job-store.js';

export interface CompactionRequests {
  /** Queues a summary of the conversation's older messages once its history is past the threshold. */
  requestIfDue(conversation: {
    userId: string;
    conversationId: string;
    /** The turn's model, which the summary is written with. */
    model: string;
    /** The last message the conversation's summary covers (0: no summary yet). */
    summaryThroughSeq: number;
    /** Estimated tokens of the history not yet compacted, this turn's answer included. */
    historyTokens: number;
  }): Promise<void>;
}

/**
 * Every turn past the threshold names the same job until a new summary is saved, and
 * the worker runs a job id once, so turns that arrive while compaction is pending do
 * not pile up work.
 */
export function createCompactionRequests(deps: {
  jobs: Pick<JobStore, 'create'>;
  queue: JobQueue;
  clock: Clock;
  thresholdTokens: number;
}): CompactionRequests {
  return {
    async requestIfDue({ userId, conversationId, model, summaryThroughSeq, historyTokens }) {
      if (historyTokens <= deps.thresholdTokens) return;
      const message = {
        type: 'summarize.conversation' as const,
        userId,
        conversationId,
        model,
        summaryThroughSeq,
        jobId: compactionJobId(
          userId,
          conversationId,
          summaryThroughSeq,
          Math.floor(historyTokens / deps.thresholdTokens),
        ),
      };
      const job = await deps.jobs.create(message, new Date(deps.clock()).toISOString());
      if (job.status === 'queued') await deps.queue.send(message);
    },
  };
}
