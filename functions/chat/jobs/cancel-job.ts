import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError, NotFoundError } from '../../../shared/domain/errors.js';
import { quoted } from '../../../shared/domain/quoted.js';
import { eventNamed, jobEndedEvent } from '../../../shared/events/producer-events.js';
import type { EventPublisher } from '../../../shared/ports/event-publisher.js';
import type { Job, JobStore } from '../../../shared/ports/job-store.js';

/**
 * Cancels a job. One that has not started (or waits for its retry) is cancelled at once: the
 * worker then drops its message, and its end is published here. One running is asked to
 * stop (`cancelRequestedAt`): its worker cuts its calls within about a second (a batch job's
 * batch is cancelled upstream at its next look), then ends it `cancelled` and publishes that.
 * So is one queued that holds a batch (a failed batch job asked for again): cancelled at once,
 * its batch would run on upstream, neither stopped nor billed.
 * @returns the job: `cancelled`, or `running` (or `queued` holding a batch) with its cancel asked
 * @throws NotFoundError when the user has no such job
 * @throws ConflictError when it has ended otherwise than cancelled, or is dead-lettered (a
 *   repeat answers the job as it is)
 */
export type CancelJob = (userId: string, jobId: string) => Promise<Job>;

/** A job running can go back to `queued` for its retry meanwhile, then be cancelled as such. */
const ATTEMPTS = 3;

export function createJobCancellation(deps: {
  jobs: Pick<JobStore, 'cancel' | 'requestCancel'>;
  events: EventPublisher;
  clock: Clock;
  /** The job's end event could not be published: the error, and which event. */
  onNotPublished: (error: unknown, event: ReturnType<typeof eventNamed>) => void;
}): CancelJob {
  return async (userId, jobId) => {
    const nowIso = new Date(deps.clock()).toISOString();
    for (let attempt = 1; ; attempt++) {
      const job = await deps.jobs.cancel(userId, jobId, nowIso);
      if (!job) throw new NotFoundError(`job ${quoted(jobId)} does not exist`);
      if (job.status === 'cancelled') {
        await publishOnce(job, nowIso);
        return job;
      }
      if (job.status !== 'running' && !holdsBatch(job)) throw ended(job);
      const asked = await deps.jobs.requestCancel(userId, jobId, nowIso);
      if (!asked) throw new NotFoundError(`job ${quoted(jobId)} does not exist`);
      if (asked.status === 'running' || holdsBatch(asked)) return asked;
      if (asked.status !== 'queued' || attempt === ATTEMPTS) throw ended(asked);
    }
  };

  /** Published only by the call that cancelled it (a repeat finds it cancelled already). */
  async function publishOnce(job: Job, nowIso: string) {
    if (job.updatedAt !== nowIso) return;
    const event = jobEndedEvent(job, { status: 'cancelled' }, nowIso);
    await deps.events
      .publish(event)
      .catch((error: unknown) => deps.onNotPublished(error, eventNamed(event)));
  }
}

/** Queued holding a batch (a failed batch job asked for again): its run must collect the batch. */
const holdsBatch = (job: Job) => job.status === 'queued' && job.batch !== undefined;

function ended(job: Job) {
  return new ConflictError(
    `job ${quoted(job.jobId)} is ${job.status}: only a queued or running job can be cancelled`,
  );
}
