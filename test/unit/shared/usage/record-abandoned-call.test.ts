import { describe, expect, it } from 'vitest';
import type { AbandonedReservation } from '../../../../shared/ports/usage-ledger.js';
import type { UsageRecord } from '../../../../shared/ports/usage-records.js';
import { createAbandonedCallRecorder } from '../../../../shared/usage/record-abandoned-call.js';
import { InMemoryUsageRecords } from '../../../fakes/in-memory-usage-records.js';

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const call: AbandonedReservation = {
  id: 'resv_1',
  userId: 'svc-batch',
  month: '2026-11',
  shard: 0,
  amountNanoUsd: 9_000_000,
  expiresAtMs: T0 + 900_000,
  keyId: 'key_1',
  ifAbandoned: { api: 'jobs', model: 'claude-haiku-4-5', startedAtMs: T0 },
};

describe('createAbandonedCallRecorder', () => {
  it("records a call naming no request id under its reservation's id, and its API key", async () => {
    const usageRecords = new InMemoryUsageRecords();
    const record = createAbandonedCallRecorder({
      usageRecords,
      clock: () => T0 + 1_000,
      onNotRecorded: () => {},
    });

    await record(call);

    expect(usageRecords.recorded).toEqual([
      expect.objectContaining({
        requestId: 'resv_1',
        principal: 'svc-batch',
        keyId: 'key_1',
        api: 'jobs',
        costNanoUsd: 9_000_000,
        recovered: true,
      }),
    ]);
  });

  it('is replaced by the record of a caller that only stalled, counting the call once', async () => {
    const usageRecords = new InMemoryUsageRecords();
    await createAbandonedCallRecorder({ usageRecords, clock: () => T0, onNotRecorded: () => {} })(
      call,
    );
    const own: UsageRecord = {
      requestId: 'resv_1',
      at: new Date(T0).toISOString(),
      principal: 'svc-batch',
      keyId: 'key_1',
      api: 'jobs',
      model: 'claude-haiku-4-5',
      usage: {
        inputTokens: 100,
        outputTokens: 20,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
      costNanoUsd: 200_000,
      latencyMs: 800,
      stopReason: 'end_turn',
      cacheHit: false,
    };

    await usageRecords.record(own);

    const [principal] = (await usageRecords.report('2026-11', { top: 5 })).byPrincipal;
    expect(principal).toMatchObject({ requests: 1, inputTokens: 100, costNanoUsd: 9_000_000 });
  });

  it('reports a record it could not write instead of rejecting', async () => {
    const refused = new Error('throttled');
    const notRecorded: unknown[] = [];
    const record = createAbandonedCallRecorder({
      usageRecords: { record: () => Promise.reject(refused) },
      clock: () => T0,
      onNotRecorded: (abandoned, error) => notRecorded.push({ abandoned, error }),
    });

    await expect(record(call)).resolves.toBeUndefined();

    expect(notRecorded).toEqual([{ abandoned: call, error: refused }]);
  });
});
