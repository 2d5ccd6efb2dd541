import { describe, expect, it } from 'vitest';
import type { JobEndedEvent, ProducerEvent } from '../../../../shared/events/producer-events.js';
import { ScriptedModelBatches } from '../../../fakes/scripted-model-batches.js';
import { createWorkerWorld, jobRecord, USER_ID } from './support.js';

const JOB_ID = 'nightly-digest';
const message = {
  type: 'summarize.document' as const,
  jobId: JOB_ID,
  userId: USER_ID,
  text: 'The nightly digest: 14 orders, 2 returns.',
  priority: 'batch' as const,
};

const ended = (events: ProducerEvent[]) =>
  events.filter((event): event is JobEndedEvent => event.type === 'job.ended');

/** A batch job whose batch was submitted (it ends after three looks), then its cancel asked. */
async function cancelledWhileItsBatchRuns() {
  const batches = new ScriptedModelBatches(undefined, 3);
  const world = createWorkerWorld({ batches });
  await world.handleRecord(jobRecord(message));
  const nowIso = new Date(world.clock.nowMs).toISOString();
  expect(await world.jobs.requestCancel(USER_ID, JOB_ID, nowIso)).toMatchObject({
    status: 'running',
    batch: { batchId: batches.batches[0]?.batchId },
  });
  let polls = 0;
  const poll = () => world.handleRecord(jobRecord(message, { messageId: `poll-${++polls}` }));
  return { batches, world, poll };
}

describe('a batch job cancelled while its batch runs', () => {
  it('keeps its batch, unended, while the batch cannot be looked at, then cancels it and ends', async () => {
    const { batches, world, poll } = await cancelledWhileItsBatchRuns();
    batches.checkError = 'overloaded';

    await expect(poll()).rejects.toThrow();

    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      status: 'running',
      batch: { batchId: batches.batches[0]?.batchId },
    });
    expect(ended(world.events.published)).toEqual([]);
    expect(await world.ledger.listReservations()).toHaveLength(1);

    batches.checkError = undefined;
    await poll();
    expect(batches.cancels).toEqual([batches.batches[0]?.batchId]);
    await poll();
    await poll();

    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      status: 'cancelled',
      costNanoUsd: 0,
    });
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(ended(world.events.published)).toEqual([
      expect.objectContaining({ jobId: JOB_ID, status: 'cancelled', priority: 'batch' }),
    ]);
  });

  it('sends a cancel the provider refused again at its next look, and only once it took', async () => {
    const { batches, world, poll } = await cancelledWhileItsBatchRuns();
    batches.cancelError = 'overloaded';

    await poll();

    expect(world.observer.batchesNotCancelled).toEqual([
      expect.objectContaining({ jobId: JOB_ID, batchId: batches.batches[0]?.batchId }),
    ]);
    expect((await world.jobs.get(USER_ID, JOB_ID))?.batch?.cancelSent).toBeUndefined();
    batches.cancelError = undefined;
    await poll();
    expect(batches.cancels).toHaveLength(1);
    // Canceling upstream: looked at again, it is not cancelled again.
    await poll();
    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'running' });
    await poll();
    expect(batches.cancels).toHaveLength(1);
    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'cancelled' });
    expect(ended(world.events.published)).toHaveLength(1);
  });
});
