import type { Clock } from '../../shared/domain/clock.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { UsageRecords } from '../../shared/ports/usage-records.js';
import type { JobObserver } from './job-observer.js';

/** One model call of a job, settled: what the usage report counts. */
export interface JobCall {
  jobId: string;
  userId: string;
  /** The API key whose month the call was held on too: reported under it. */
  keyId?: string;
  model: string;
  usage: TokenUsage;
  costNanoUsd: number;
  startedAtMs: number;
  stopReason?: string;
  /**
   * The reservation it was held on, which names its usage record (see `jobCallRequestId`): a
   * batch collected twice is counted once, and the record replaces the one the sweep made
   * should it have billed the call as abandoned.
   */
  reservationId: string;
}

/** The request id a job's call is recorded under: its job's, then its reservation's. */
export const jobCallRequestId = (jobId: string, reservationId: string) =>
  `${jobId}:${reservationId}`;

/** Records a job's model call for the usage report, beside chat's and /v1/messages'. Never fails the job. */
export type RecordJobCall = (call: JobCall) => Promise<void>;

export function createJobCallRecorder(deps: {
  usageRecords: UsageRecords;
  clock: Clock;
  observer: Pick<JobObserver, 'usageNotRecorded'>;
}): RecordJobCall {
  const { usageRecords, clock, observer } = deps;
  return async (call) => {
    await usageRecords
      .record({
        requestId: jobCallRequestId(call.jobId, call.reservationId),
        at: new Date(call.startedAtMs).toISOString(),
        principal: call.userId,
        ...(call.keyId && { keyId: call.keyId }),
        api: 'jobs',
        model: call.model,
        usage: call.usage,
        costNanoUsd: call.costNanoUsd,
        latencyMs: clock() - call.startedAtMs,
        ...(call.stopReason && { stopReason: call.stopReason }),
        cacheHit: false,
      })
      .catch((error: unknown) =>
        observer.usageNotRecorded(error, { jobId: call.jobId, userId: call.userId }),
      );
  };
}
