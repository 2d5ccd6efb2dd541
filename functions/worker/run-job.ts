import type { Clock } from '../../shared/domain/clock.js';
import type { JobMessage } from '../../shared/jobs/job-message.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { CompactConversation } from './compact-conversation.js';
import type { JobObserver } from './job-observer.js';
import { JobMeter } from './metered-model.js';
import type { SummarizeDocument } from './summarize-document.js';

export type IdentifiedJob = JobMessage & { jobId: string };

/** Does one job and records its outcome; failures are thrown for the caller to classify. */
export type RunJob = (job: IdentifiedJob) => Promise<{ summary: string }>;

export function createJobRunner(deps: {
  jobs: Pick<JobStore, 'create' | 'markRunning' | 'markSucceeded'>;
  summarizeDocument: SummarizeDocument;
  compactConversation: CompactConversation;
  clock: Clock;
  observer: JobObserver;
}): RunJob {
  const { jobs, clock } = deps;
  const nowIso = () => new Date(clock()).toISOString();
  return async (job) => {
    const startedAt = clock();
    await jobs.create({ jobId: job.jobId, userId: job.userId, type: job.type }, nowIso());
    await jobs.markRunning(job.userId, job.jobId, nowIso());
    const meter = new JobMeter();
    const summary =
      job.type === 'summarize.document'
        ? await deps.summarizeDocument(job, meter)
        : await deps.compactConversation(job, meter);
    await jobs.markSucceeded(
      job.userId,
      job.jobId,
      { summary, usage: meter.usage, costNanoUsd: meter.costNanoUsd },
      nowIso(),
    );
    deps.observer.succeeded({
      jobId: job.jobId,
      userId: job.userId,
      type: job.type,
      usage: meter.usage,
      costNanoUsd: meter.costNanoUsd,
      durationMs: clock() - startedAt,
    });
    return { summary };
  };
}
