import type { Clock } from '../../../shared/domain/clock.js';
import {
  COMPACTION_KEEPS_RECENT_MESSAGES,
  isSuperseded,
} from '../../../shared/domain/conversation.js';
import { compactionJobId, contentHashOf, isCompaction } from '../../../shared/jobs/job-id.js';
import type { JobQueue } from '../../../shared/ports/job-queue.js';
import type { Job, JobStore } from '../../../shared/ports/job-store.js';

/** A compaction that failed is asked for again no sooner than this after it ended. */
const MIN_RETRY_AFTER_FAILURE_MS = 60_000;

export interface CompactionRequests {
  /** Queues a summary of the conversation's older messages once its history is past the threshold. */
  requestIfDue(conversation: {
    userId: string;
    conversationId: string;
    /** When the conversation was made: one made again under its id asks for its own jobs. */
    conversationCreatedAt: string;
    /** The turn's model, which the summary is written with. */
    model: string;
    /** The last message the conversation's summary covers (0: no summary yet). */
    summaryThroughSeq: number;
    /** The conversation's last message: this turn's answer. */
    lastSeq: number;
    /** Messages replaced by a regenerate or an edit (`[from, to]` seqs): a compaction keeps none. */
    superseded: ReadonlyArray<readonly [number, number]>;
    /** Estimated tokens of the history not yet compacted, this turn's answer included. */
    historyTokens: number;
  }): Promise<void>;
}

/**
 * Every turn past the threshold names the same job until a new summary is saved, and
 * the worker runs a job id once, so turns that arrive while compaction is pending do
 * not pile up work. One that failed (refused) is sent again, which the worker runs
 * again (see `failedLongEnough`): else every turn until the history grows another
 * threshold would send its whole history.
 */
export function createCompactionRequests(deps: {
  jobs: Pick<JobStore, 'create'>;
  queue: JobQueue;
  clock: Clock;
  thresholdTokens: number;
}): CompactionRequests {
  return {
    async requestIfDue({
      userId,
      conversationId,
      conversationCreatedAt,
      model,
      summaryThroughSeq,
      lastSeq,
      superseded,
      historyTokens,
    }) {
      if (historyTokens <= deps.thresholdTokens) return;
      // Past the threshold in the messages a compaction keeps (a long first question, its
      // answer regenerated): it would fold nothing and succeed, and its job, done, would not
      // be asked for again until the history reached the next multiple of the threshold.
      if (messagesAfter(summaryThroughSeq, lastSeq, superseded) <= COMPACTION_KEEPS_RECENT_MESSAGES)
        return;
      const messageUnder = (alternate: boolean) => ({
        type: 'summarize.conversation' as const,
        userId,
        conversationId,
        model,
        summaryThroughSeq,
        jobId: compactionJobId(
          userId,
          { id: conversationId, createdAt: conversationCreatedAt },
          summaryThroughSeq,
          Math.floor(historyTokens / deps.thresholdTokens),
          { alternate },
        ),
      });
      const nowMs = deps.clock();
      const nowIso = new Date(nowMs).toISOString();
      const create = (message: ReturnType<typeof messageUnder>) =>
        deps.jobs.create({ ...message, contentHash: contentHashOf(message) }, nowIso);
      let message = messageUnder(false);
      let job = await create(message);
      // Its id taken by a document its user named so first (the id is a hash of what they can
      // read): sent under it, the compaction would be refused as a conflict.
      if (!isCompaction(job, message)) {
        message = messageUnder(true);
        job = await create(message);
        if (!isCompaction(job, message)) return;
      }
      // Asked for now, when recorded (or found) queued: a user's cancel landing before the send
      // stands, where the message, sent after it, would run the job again.
      if (neverStarted(job) || failedLongEnough(job, nowMs))
        await deps.queue.send(message, { askedAt: nowIso });
    },
  };
}

/** The messages after `summaryThroughSeq` up to `lastSeq` that are not replaced. */
function messagesAfter(
  summaryThroughSeq: number,
  lastSeq: number,
  superseded: ReadonlyArray<readonly [number, number]>,
): number {
  let count = 0;
  for (let seq = summaryThroughSeq + 1; seq <= lastSeq; seq++) {
    if (!isSuperseded(seq, superseded)) count++;
  }
  return count;
}

/**
 * A job never started is sent again, in case its first send failed. One queued after an
 * attempt waits for its retry, its message delayed on the queue: another would run it at
 * once, retry-after or not, and each turn would add one more to retry.
 */
function neverStarted(job: Job): boolean {
  return job.status === 'queued' && job.attempts === 0;
}

/**
 * A compaction that failed is asked for again once it has stayed ended as long as it had
 * existed when it ended (at least a minute): one that keeps failing (a refusal) is run
 * again ever less often (its age at least doubles from one run to the next), never on
 * every turn. A dead-lettered one is the operator's, who was paged and redrives it: sent
 * again, one that fails for good would be dead-lettered and page again. A cancelled one
 * was stopped on purpose. Neither is asked for again.
 */
function failedLongEnough(job: Job, nowMs: number): boolean {
  if (job.status !== 'failed') return false;
  const endedAtMs = Date.parse(job.updatedAt);
  const existedMs = endedAtMs - Date.parse(job.createdAt);
  return nowMs - endedAtMs >= Math.max(MIN_RETRY_AFTER_FAILURE_MS, existedMs);
}
