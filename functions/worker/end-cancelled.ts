import type { Clock } from '../../shared/domain/clock.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import { eventNamed, jobEndedEvent } from '../../shared/events/producer-events.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import { budgetCheckAfter, type JobObserver } from './job-observer.js';

/**
 * Ends a job whose cancel was asked as `cancelled`, with what it spent when given (else what
 * it recorded), and publishes that end: only the call whose write ended it does (a job
 * cancelled while queued was published by its cancel).
 * @returns whether this call ended it
 */
export type EndCancelled = (
  job: { jobId: string; userId: string; type: string },
  spent: { usage: TokenUsage; costNanoUsd: number } | undefined,
) => Promise<boolean>;

export function createCancelEnding(deps: {
  jobs: Pick<JobStore, 'markCancelled'>;
  events: EventPublisher;
  /** After the job's spend: budget thresholds. Never fails the job. */
  afterSpend: (userId: string) => Promise<void>;
  clock: Clock;
  observer: JobObserver;
}): EndCancelled {
  const { observer } = deps;
  return async (job, spent) => {
    const at = new Date(deps.clock()).toISOString();
    const ended = await deps.jobs.markCancelled(job.userId, job.jobId, spent, at);
    if (!ended) return false;
    observer.cancelled({
      jobId: job.jobId,
      userId: job.userId,
      type: job.type,
      usage: ended.usage,
      costNanoUsd: ended.costNanoUsd ?? 0,
    });
    const event = jobEndedEvent(ended, { status: 'cancelled' }, at);
    await deps.events
      .publish(event)
      .catch((error: unknown) => observer.notPublished(error, eventNamed(event)));
    await deps
      .afterSpend(job.userId)
      .catch((error: unknown) => observer.notPublished(error, budgetCheckAfter(job)));
    return true;
  };
}
