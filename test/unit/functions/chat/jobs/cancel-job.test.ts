import { describe, expect, it } from 'vitest';
import { createJobCancellation } from '../../../../../functions/chat/jobs/cancel-job.js';
import { ConflictError, NotFoundError } from '../../../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../../../shared/domain/usage.js';
import { InMemoryJobStore } from '../../../../fakes/in-memory-job-store.js';
import { RecordingEventPublisher } from '../../../../fakes/recording-event-publisher.js';

const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');
const NOW_ISO = new Date(NOW_MS).toISOString();
const EARLIER = '2026-11-15T09:59:00.000Z';

function fixture() {
  const jobs = new InMemoryJobStore();
  const events = new RecordingEventPublisher();
  const notPublished: Array<{ error: unknown; event: unknown }> = [];
  const cancel = createJobCancellation({
    jobs,
    events,
    clock: () => NOW_MS,
    onNotPublished: (error, event) => notPublished.push({ error, event }),
  });
  return { jobs, events, notPublished, cancel };
}

const job = { jobId: 'report-7', userId: 'alice', type: 'summarize.document' as const };

describe('job cancellation', () => {
  it('cancels a queued job and publishes its end as cancelled', async () => {
    const { jobs, events, cancel } = fixture();
    await jobs.create(job, EARLIER);

    const cancelled = await cancel('alice', 'report-7');

    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(events.deliveries).toEqual([
      {
        event: expect.objectContaining({
          type: 'job.ended',
          jobId: 'report-7',
          status: 'cancelled',
        }),
        attributes: { type: 'job.ended', status: 'cancelled', userId: 'alice' },
      },
    ]);
  });

  it('asks a running job to stop, and leaves its end to its worker, which publishes it', async () => {
    const { jobs, events, cancel } = fixture();
    await jobs.create(job, EARLIER);
    await jobs.markRunning('alice', 'report-7', EARLIER);

    const asked = await cancel('alice', 'report-7');
    const again = await cancel('alice', 'report-7');

    expect(asked).toMatchObject({ status: 'running', cancelRequestedAt: asked.cancelRequestedAt });
    expect(again.cancelRequestedAt).toBe(asked.cancelRequestedAt);
    expect(await jobs.cancelRequested('alice', 'report-7')).toBe(true);
    expect(events.published).toEqual([]);
  });

  it('asks a queued job holding a batch to stop, rather than cancel it: its run must collect and bill the batch', async () => {
    const { jobs, events, cancel } = fixture();
    await jobs.create({ ...job, priority: 'batch' }, EARLIER);
    await jobs.markRunning('alice', 'report-7', EARLIER);
    await jobs.setBatch(
      'alice',
      'report-7',
      {
        batchId: 'msgbatch_01',
        submittedAt: EARLIER,
        reservation: {
          id: 'r1',
          userId: 'alice',
          month: '2026-11',
          shard: 0,
          amountNanoUsd: 1000,
          expiresAtMs: 1,
        },
      },
      EARLIER,
    );
    const error = { type: 'api_error', message: 'failed' };
    await jobs.markFailed('alice', 'report-7', { status: 'failed', error }, EARLIER);
    await jobs.requeue('alice', 'report-7', EARLIER);

    const asked = await cancel('alice', 'report-7');
    const again = await cancel('alice', 'report-7');

    expect(asked).toMatchObject({ status: 'queued', cancelRequestedAt: NOW_ISO });
    expect(again).toMatchObject({ status: 'queued', cancelRequestedAt: NOW_ISO });
    expect((await jobs.get('alice', 'report-7'))?.batch).toMatchObject({ batchId: 'msgbatch_01' });
    expect(events.published).toEqual([]);
  });

  it('cancels as queued a running job put back for its retry as it was asked to stop', async () => {
    const { jobs, events, cancel } = fixture();
    await jobs.create(job, EARLIER);
    await jobs.markRunning('alice', 'report-7', EARLIER);
    const requestCancel = jobs.requestCancel.bind(jobs);
    jobs.requestCancel = async (...args) => {
      await jobs.markRetrying(
        'alice',
        'report-7',
        { type: 'overloaded_error', message: 'x' },
        EARLIER,
      );
      jobs.requestCancel = requestCancel;
      return requestCancel(...args);
    };

    const cancelled = await cancel('alice', 'report-7');

    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(events.published).toEqual([
      expect.objectContaining({ type: 'job.ended', status: 'cancelled' }),
    ]);
  });

  it('refuses an ended job with a ConflictError that says how it ended, and publishes nothing', async () => {
    const { jobs, events, cancel } = fixture();
    await jobs.create(job, EARLIER);
    await jobs.markRunning('alice', 'report-7', EARLIER);
    await jobs.markSucceeded('alice', 'report-7', { usage: ZERO_USAGE, costNanoUsd: 0 }, EARLIER);

    await expect(cancel('alice', 'report-7')).rejects.toThrow(
      new ConflictError(
        'job "report-7" is succeeded: only a queued or running job can be cancelled',
      ),
    );
    expect(events.published).toEqual([]);
  });

  it("answers NotFoundError for another user's job", async () => {
    const { jobs, cancel } = fixture();
    await jobs.create(job, EARLIER);

    await expect(cancel('mallory', 'report-7')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('cancels all the same when the event cannot be published', async () => {
    const { jobs, events, notPublished, cancel } = fixture();
    await jobs.create(job, EARLIER);
    events.failing = true;

    await expect(cancel('alice', 'report-7')).resolves.toMatchObject({ status: 'cancelled' });
    expect(notPublished).toEqual([
      {
        error: expect.any(Error),
        event: { type: 'job.ended', jobId: 'report-7', userId: 'alice', status: 'cancelled' },
      },
    ]);
  });
});
