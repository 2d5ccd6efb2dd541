import { abandonedCost } from '../domain/budget.js';
import type { Clock } from '../domain/clock.js';
import type { AbandonedReservation } from '../ports/usage-ledger.js';
import type { UsageRecords } from '../ports/usage-records.js';

/** Records a call the sweep billed as abandoned for the usage report. Never rejects. */
export type RecordAbandonedCall = (call: AbandonedReservation) => Promise<void>;

/**
 * The usage record of a call whose function died before it settled, at what the ledger billed
 * it (all it held; its tokens unknown). Marked recovered: should its caller only have stalled,
 * its own record, under the same request id, replaces this one, as its late settle does in
 * the ledger.
 */
export function createAbandonedCallRecorder(deps: {
  usageRecords: Pick<UsageRecords, 'record'>;
  clock: Clock;
  /** A call billed whose usage record could not be written: no one else will write it. */
  onNotRecorded: (call: AbandonedReservation, error: unknown) => void;
}): RecordAbandonedCall {
  return async (call) => {
    const { api, model, requestId, startedAtMs } = call.ifAbandoned;
    await deps.usageRecords
      .record({
        requestId: requestId ?? call.id,
        at: new Date(startedAtMs).toISOString(),
        principal: call.userId,
        ...(call.keyId && { keyId: call.keyId }),
        api,
        model,
        ...abandonedCost(call),
        latencyMs: deps.clock() - startedAtMs,
        stopReason: 'interrupted',
        cacheHit: false,
        recovered: true,
      })
      .catch((error: unknown) => deps.onNotRecorded(call, error));
  };
}
