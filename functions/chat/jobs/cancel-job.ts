import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError, NotFoundError } from '../../../shared/domain/errors.js';
import { eventNamed, jobEndedEvent } from '../../../shared/events/producer-events.js';
import type { EventPublisher } from '../../../shared/ports/event-publisher.js';
import type { Job, JobStore } from '../../../shared/ports/job-store.js';

/**
 * Cancels a job that has not started: the worker then drops its message. The end is
 * published as any job's (`cancelled`).
 * @throws NotFoundError when the user has no such job
 * @throws ConflictError when it is already running or has ended otherwise (a repeat answers the
 *   cancelled job)
 */
export type CancelJob = (userId: string, jobId: string) => Promise<Job>;

export function createJobCancellation(deps: {
  jobs: Pick<JobStore, 'cancel'>;
  events: EventPublisher;
  clock: Clock;
  /** The event could not be published; the job is cancelled all the same. */
  /** The job's end event could not be published: the error, and which event. */
  onNotPublished: (error: unknown, event: ReturnType<typeof eventNamed>) => void;
}): CancelJob {
  return async (userId, jobId) => {
    const nowIso = new Date(deps.clock()).toISOString();
    const job = await deps.jobs.cancel(userId, jobId, nowIso);
    if (!job) throw new NotFoundError(`job ${JSON.stringify(jobId)} does not exist`);
    if (job.status !== 'cancelled') {
      throw new ConflictError(
        `job ${JSON.stringify(jobId)} is ${job.status}: only a queued job can be cancelled`,
      );
    }
    // Published only by the call that cancelled it (a repeat finds it cancelled already).
    if (job.updatedAt === nowIso) {
      const event = jobEndedEvent(job, { status: 'cancelled' }, nowIso);
      await deps.events
        .publish(event)
        .catch((error: unknown) => deps.onNotPublished(error, eventNamed(event)));
    }
    return job;
  };
}
