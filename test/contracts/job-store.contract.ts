import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { newJobId } from '../../shared/domain/ids.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { Job, JobStore } from '../../shared/ports/job-store.js';

const T0 = '2026-11-15T10:00:00.000Z';
const T1 = '2026-11-15T10:00:05.000Z';
const T2 = '2026-11-15T10:00:09.000Z';

const newUserId = () => `contract-${randomUUID()}`;

const USAGE: TokenUsage = {
  inputTokens: 900,
  outputTokens: 120,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

const batchOf = (userId: string) => ({
  batchId: 'msgbatch_01',
  submittedAt: T1,
  reservation: {
    id: 'r1',
    userId,
    month: '2026-11',
    shard: 0,
    amountNanoUsd: 1000,
    expiresAtMs: 1,
  },
});

/**
 * The JobStore port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * Every test works on a user of its own, so one store can serve the whole suite.
 */
export function jobStoreContract(subject: () => Promise<JobStore>) {
  let jobs: JobStore;
  let job: Pick<Job, 'jobId' | 'userId' | 'type'>;
  beforeEach(async () => {
    jobs = await subject();
    job = { jobId: newJobId(), userId: newUserId(), type: 'summarize.document' };
  });

  describe('create', () => {
    it('creates a queued job with no attempts yet and returns it as stored', async () => {
      const created = await jobs.create(job, T0);

      const expected: Job = { ...job, status: 'queued', createdAt: T0, updatedAt: T0, attempts: 0 };
      expect(created).toEqual(expected);
      expect(await jobs.get(job.userId, job.jobId)).toEqual(expected);
    });

    it('keeps a job that exists exactly as it is and returns it', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      const again = await jobs.create({ ...job, type: 'summarize.conversation' }, T2);

      expect(again).toEqual({
        ...job,
        status: 'running',
        createdAt: T0,
        updatedAt: T1,
        attempts: 1,
      });
      expect(await jobs.get(job.userId, job.jobId)).toEqual(again);
    });
  });

  describe('discard', () => {
    it('deletes a queued job never attempted that holds this content', async () => {
      await jobs.create({ ...job, contentHash: 'hash-1' }, T0);

      await jobs.discard(job.userId, job.jobId, 'hash-1');

      expect(await jobs.get(job.userId, job.jobId)).toBeUndefined();
    });

    it('keeps a job that holds other content, has started, or was cancelled', async () => {
      const other = { ...job, jobId: newJobId() };
      const started = { ...job, jobId: newJobId() };
      const cancelled = { ...job, jobId: newJobId() };
      for (const each of [other, started, cancelled]) {
        await jobs.create({ ...each, contentHash: 'hash-1' }, T0);
      }
      await jobs.markRunning(started.userId, started.jobId, T1);
      await jobs.cancel(cancelled.userId, cancelled.jobId, T1);

      await jobs.discard(other.userId, other.jobId, 'hash-2');
      await jobs.discard(started.userId, started.jobId, 'hash-1');
      await jobs.discard(cancelled.userId, cancelled.jobId, 'hash-1');
      await jobs.discard(job.userId, newJobId(), 'hash-1');

      expect(await jobs.get(other.userId, other.jobId)).toMatchObject({ status: 'queued' });
      expect(await jobs.get(started.userId, started.jobId)).toMatchObject({ status: 'running' });
      expect(await jobs.get(cancelled.userId, cancelled.jobId)).toMatchObject({
        status: 'cancelled',
      });
    });
  });

  describe('get', () => {
    it('finds no job that was never created', async () => {
      expect(await jobs.get(job.userId, job.jobId)).toBeUndefined();
    });

    it('finds no job of another user, even by its id', async () => {
      await jobs.create(job, T0);

      expect(await jobs.get(newUserId(), job.jobId)).toBeUndefined();
    });
  });

  describe('progress', () => {
    it('counts an attempt each time the job starts running', async () => {
      await jobs.create(job, T0);

      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.markRunning(job.userId, job.jobId, T2);

      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'running',
        attempts: 2,
        createdAt: T0,
        updatedAt: T2,
      });
    });

    it('stores the summary, usage and cost of a job that succeeded', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      await jobs.markSucceeded(
        job.userId,
        job.jobId,
        { summary: 'Q3 went well.', usage: USAGE, costNanoUsd: 4_500_000 },
        T2,
      );

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        status: 'succeeded',
        createdAt: T0,
        updatedAt: T2,
        attempts: 1,
        result: { summary: 'Q3 went well.' },
        usage: USAGE,
        costNanoUsd: 4_500_000,
      });
    });

    it('keeps no result for a job that succeeded without a summary to keep', async () => {
      await jobs.create(job, T0);

      await jobs.markSucceeded(job.userId, job.jobId, { usage: USAGE, costNanoUsd: 5 }, T2);

      const stored = await jobs.get(job.userId, job.jobId);
      expect(stored).toMatchObject({ status: 'succeeded', usage: USAGE, costNanoUsd: 5 });
      expect(stored?.result).toBeUndefined();
    });

    it('stores why a job failed', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      await jobs.markFailed(
        job.userId,
        job.jobId,
        { status: 'failed', error: { type: 'budget_exceeded_error', message: 'no budget left' } },
        T2,
      );

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        status: 'failed',
        createdAt: T0,
        updatedAt: T2,
        attempts: 1,
        error: { type: 'budget_exceeded_error', message: 'no budget left' },
      });
    });

    it('stores a job dead-lettered, which runs again when its message comes back', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      const error = { type: 'overloaded_error', message: 'the model is overloaded' };

      await jobs.markFailed(job.userId, job.jobId, { status: 'dead_lettered', error }, T2);

      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'dead_lettered',
        error,
      });
      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(true);
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'running',
        attempts: 2,
      });
    });

    it("puts a job whose attempt failed back in the queue, with that attempt's error", async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      const error = { type: 'rate_limit_error', message: 'slow down' };

      await jobs.markRetrying(job.userId, job.jobId, error, T2);

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        status: 'queued',
        createdAt: T0,
        updatedAt: T2,
        attempts: 1,
        error,
      });
      expect(await jobs.cancel(job.userId, job.jobId, T2)).toMatchObject({ status: 'cancelled' });
    });

    it('leaves a job waiting for its batch running, so that it cannot be cancelled', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      const batch = batchOf(job.userId);
      await jobs.setBatch(job.userId, job.jobId, batch, T1);

      await jobs.markRetrying(job.userId, job.jobId, { type: 'api_error', message: 'x' }, T2);

      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'running', batch });
      expect(await jobs.cancel(job.userId, job.jobId, T2)).toMatchObject({ status: 'running' });
    });

    it('leaves a job cancelled before its failed attempt ends as it is', async () => {
      await jobs.create(job, T0);
      await jobs.cancel(job.userId, job.jobId, T1);

      await jobs.markRetrying(job.userId, job.jobId, { type: 'api_error', message: 'x' }, T2);

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        status: 'cancelled',
        createdAt: T0,
        updatedAt: T1,
        attempts: 0,
      });
    });

    it('forgets an earlier failure once the job succeeds', async () => {
      await jobs.create(job, T0);
      await jobs.markFailed(
        job.userId,
        job.jobId,
        { status: 'dead_lettered', error: { type: 'api_error', message: 'boom' } },
        T1,
      );

      await jobs.markSucceeded(
        job.userId,
        job.jobId,
        { summary: 'Done.', usage: USAGE, costNanoUsd: 1 },
        T2,
      );

      const stored = await jobs.get(job.userId, job.jobId);
      expect(stored?.status).toBe('succeeded');
      expect(stored?.error).toBeUndefined();
    });
  });

  describe('producer ids and content', () => {
    it('keeps the content hash and priority the job was created with', async () => {
      const created = await jobs.create(
        { ...job, jobId: 'invoice-2026-118:summary', contentHash: 'abc', priority: 'batch' },
        T0,
      );

      expect(created).toMatchObject({
        jobId: 'invoice-2026-118:summary',
        contentHash: 'abc',
        priority: 'batch',
      });
      const again = await jobs.create(
        { ...job, jobId: 'invoice-2026-118:summary', contentHash: 'other' },
        T1,
      );
      expect(again.contentHash).toBe('abc');
    });

    it('keeps a job created standard as it is when other content asks for a batch under its id', async () => {
      await jobs.create({ ...job, contentHash: 'abc' }, T0);

      const again = await jobs.create({ ...job, contentHash: 'other', priority: 'batch' }, T1);

      const expected: Job = {
        ...job,
        contentHash: 'abc',
        status: 'queued',
        createdAt: T0,
        updatedAt: T0,
        attempts: 0,
      };
      expect(again).toEqual(expected);
      expect(await jobs.get(job.userId, job.jobId)).toEqual(expected);
    });

    it('keeps a job of another type exactly as it is, giving it no content hash (a compaction recorded without one)', async () => {
      const compaction = { ...job, type: 'summarize.conversation' as const };
      await jobs.create(compaction, T0);

      const again = await jobs.create({ ...job, contentHash: 'abc' }, T1);

      const expected: Job = {
        ...compaction,
        status: 'queued',
        createdAt: T0,
        updatedAt: T0,
        attempts: 0,
      };
      expect(again).toEqual(expected);
      expect(await jobs.get(job.userId, job.jobId)).toEqual(expected);
    });

    it('notes a conflicting message on the job and changes nothing else', async () => {
      await jobs.create({ ...job, contentHash: 'abc' }, T0);

      await jobs.recordConflict(job.userId, job.jobId, 'job id already used for other content', T1);

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        contentHash: 'abc',
        status: 'queued',
        createdAt: T0,
        updatedAt: T0,
        attempts: 0,
        conflict: { message: 'job id already used for other content', at: T1 },
      });
    });
  });

  describe('cancel', () => {
    it('cancels a queued job, which then never runs', async () => {
      await jobs.create(job, T0);

      const cancelled = await jobs.cancel(job.userId, job.jobId, T1);

      expect(cancelled).toMatchObject({ status: 'cancelled', updatedAt: T1 });
      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(false);
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'cancelled',
        attempts: 0,
      });
    });

    it('leaves a running job running and says so', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      const answer = await jobs.cancel(job.userId, job.jobId, T2);

      expect(answer).toMatchObject({ status: 'running', updatedAt: T1 });
    });

    it('finds nothing to cancel for a job that does not exist', async () => {
      expect(await jobs.cancel(job.userId, job.jobId, T1)).toBeUndefined();
    });
  });

  describe('cancel of a running job', () => {
    it('asks a running job to stop, keeping the first time it was asked', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      expect(await jobs.cancelRequested(job.userId, job.jobId)).toBe(false);

      const asked = await jobs.requestCancel(job.userId, job.jobId, T1);
      const again = await jobs.requestCancel(job.userId, job.jobId, T2);

      expect(asked).toMatchObject({ status: 'running', cancelRequestedAt: T1 });
      expect(again).toMatchObject({ status: 'running', cancelRequestedAt: T1 });
      expect(await jobs.cancelRequested(job.userId, job.jobId)).toBe(true);
    });

    it('asks nothing of a job queued or ended, and says how it is', async () => {
      await jobs.create(job, T0);
      expect(await jobs.requestCancel(job.userId, job.jobId, T1)).toMatchObject({
        status: 'queued',
      });
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.markSucceeded(job.userId, job.jobId, { usage: USAGE, costNanoUsd: 7 }, T1);

      const answer = await jobs.requestCancel(job.userId, job.jobId, T2);

      expect(answer).toMatchObject({ status: 'succeeded' });
      expect(answer?.cancelRequestedAt).toBeUndefined();
      expect(await jobs.requestCancel('nobody', job.jobId, T2)).toBeUndefined();
    });

    it('asks a queued job holding a batch to stop, rather than cancel it: its run must collect the batch', async () => {
      await jobs.create({ ...job, priority: 'batch' }, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.setBatch(job.userId, job.jobId, batchOf(job.userId), T1);
      await jobs.markFailed(
        job.userId,
        job.jobId,
        { status: 'failed', error: { type: 'api_error', message: 'x' } },
        T1,
      );
      await jobs.requeue(job.userId, job.jobId, T1);

      expect(await jobs.cancel(job.userId, job.jobId, T2)).toMatchObject({ status: 'queued' });
      expect(await jobs.requestCancel(job.userId, job.jobId, T2)).toMatchObject({
        status: 'queued',
        cancelRequestedAt: T2,
      });
      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(true);
      await jobs.setBatch(job.userId, job.jobId, undefined, T2);
      expect(await jobs.markCancelled(job.userId, job.jobId, undefined, T2)).toMatchObject({
        status: 'cancelled',
      });
    });

    it('ends a job asked to stop as cancelled with its spend, once, and never as succeeded', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);

      expect(
        await jobs.markSucceeded(job.userId, job.jobId, { usage: USAGE, costNanoUsd: 7 }, T2),
      ).toBe(false);
      const ended = await jobs.markCancelled(
        job.userId,
        job.jobId,
        { usage: USAGE, costNanoUsd: 7 },
        T2,
      );
      const again = await jobs.markCancelled(job.userId, job.jobId, undefined, T2);

      expect(ended).toMatchObject({ status: 'cancelled', usage: USAGE, costNanoUsd: 7 });
      expect(again).toBeUndefined();
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'cancelled',
        updatedAt: T2,
        costNanoUsd: 7,
      });
    });

    it('ends a job succeeded, its cancel asked or not, when its work is done where no cancel undoes it', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);

      const succeeded = await jobs.markSucceeded(
        job.userId,
        job.jobId,
        { usage: USAGE, costNanoUsd: 7, done: true },
        T2,
      );

      expect(succeeded).toBe(true);
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'succeeded' });
      expect(await jobs.markCancelled(job.userId, job.jobId, undefined, T2)).toBeUndefined();
    });

    it('puts no job asked to stop back for its retry: it ends now, and does not start again', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);

      expect(
        await jobs.markRetrying(
          job.userId,
          job.jobId,
          { type: 'overloaded_error', message: 'x' },
          T1,
        ),
      ).toBe('cancel_asked');
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'running' });
      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(false);
      expect(await jobs.markCancelled(job.userId, job.jobId, undefined, T2)).toMatchObject({
        status: 'cancelled',
        attempts: 1,
      });
    });

    it('puts back no job holding a batch, asked to stop or not: it ends once it has collected it', async () => {
      await jobs.create({ ...job, priority: 'batch' }, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.setBatch(job.userId, job.jobId, batchOf(job.userId), T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);

      expect(
        await jobs.markRetrying(job.userId, job.jobId, { type: 'api_error', message: 'x' }, T2),
      ).toBe('left');
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'running' });
    });

    it('writes no failure of a job whose cancel was asked: it ends cancelled, as its 202 said', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);

      expect(
        await jobs.markFailed(
          job.userId,
          job.jobId,
          { status: 'dead_lettered', error: { type: 'api_error', message: 'x' } },
          T2,
        ),
      ).toBe(false);
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'running' });
      expect(await jobs.markCancelled(job.userId, job.jobId, undefined, T2)).toMatchObject({
        status: 'cancelled',
      });
    });

    it('runs a job asked to stop that waits for its batch: it collects the batch to end', async () => {
      await jobs.create({ ...job, priority: 'batch' }, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.setBatch(job.userId, job.jobId, batchOf(job.userId), T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);
      expect(
        await jobs.markFailed(
          job.userId,
          job.jobId,
          { status: 'dead_lettered', error: { type: 'api_error', message: 'x' } },
          T1,
        ),
      ).toBe(true);

      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(true);
    });

    it('ends no job as cancelled that was not asked to stop', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      expect(await jobs.markCancelled(job.userId, job.jobId, undefined, T2)).toBeUndefined();
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ status: 'running' });
    });

    it('runs a cancelled job asked for again, its cancel forgotten', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);
      await jobs.requestCancel(job.userId, job.jobId, T1);
      await jobs.markCancelled(job.userId, job.jobId, undefined, T1);

      const requeued = await jobs.requeue(job.userId, job.jobId, T2);

      expect(requeued?.cancelRequestedAt).toBeUndefined();
      expect(await jobs.markRunning(job.userId, job.jobId, T2)).toBe(true);
      expect(
        await jobs.markSucceeded(job.userId, job.jobId, { usage: USAGE, costNanoUsd: 7 }, T2),
      ).toBe(true);
    });
  });

  describe('requeue', () => {
    it('puts a failed or cancelled job back in the queue, without its error, keeping its attempts', async () => {
      const failed = { ...job, jobId: newJobId() };
      const cancelled = { ...job, jobId: newJobId() };
      await jobs.create(failed, T0);
      await jobs.markRunning(failed.userId, failed.jobId, T1);
      const ending = { status: 'failed' as const, error: { type: 'billing_error', message: 'no' } };
      await jobs.markFailed(failed.userId, failed.jobId, ending, T1);
      await jobs.create(cancelled, T0);
      await jobs.cancel(cancelled.userId, cancelled.jobId, T1);

      const again = await jobs.requeue(failed.userId, failed.jobId, T2);
      const resumed = await jobs.requeue(cancelled.userId, cancelled.jobId, T2);

      expect(again).toMatchObject({ status: 'queued', attempts: 1, updatedAt: T2 });
      expect(again?.error).toBeUndefined();
      expect(await jobs.get(failed.userId, failed.jobId)).toEqual(again);
      expect(resumed).toMatchObject({ status: 'queued', attempts: 0 });
    });

    it('leaves a queued, running or succeeded job as it is and says so', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      expect(await jobs.requeue(job.userId, job.jobId, T2)).toMatchObject({
        status: 'running',
        updatedAt: T1,
      });
      expect(await jobs.requeue(job.userId, newJobId(), T2)).toBeUndefined();
    });
  });

  describe('failed deliveries kept for a copy with no room for them', () => {
    it('keeps the count on the job, leaving the rest of it as it is, and clears it at 0', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      await jobs.recordFailedDeliveries(job.userId, job.jobId, 3);
      const kept = await jobs.get(job.userId, job.jobId);
      await jobs.recordFailedDeliveries(job.userId, job.jobId, 0);
      const cleared = await jobs.get(job.userId, job.jobId);

      expect(kept).toMatchObject({
        status: 'running',
        attempts: 1,
        updatedAt: T1,
        failedDeliveries: 3,
      });
      expect(cleared).toMatchObject({ status: 'running', attempts: 1, updatedAt: T1 });
      expect(cleared?.failedDeliveries).toBeUndefined();
    });

    it('makes no job of one there is not', async () => {
      await jobs.recordFailedDeliveries(job.userId, job.jobId, 2);

      expect(await jobs.get(job.userId, job.jobId)).toBeUndefined();
    });
  });

  describe('list', () => {
    const at = (second: number) => `2026-11-15T10:00:${String(second).padStart(2, '0')}.000Z`;

    it("lists the user's jobs newest first, page by page", async () => {
      for (let i = 0; i < 5; i++) await jobs.create({ ...job, jobId: `job-${i}` }, at(i));
      await jobs.create({ ...job, userId: newUserId(), jobId: 'someone-else' }, at(9));

      const first = await jobs.list(job.userId, { limit: 3 });
      expect(first.items.map((j) => j.jobId)).toEqual(['job-4', 'job-3', 'job-2']);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await jobs.list(job.userId, { limit: 3, cursor: first.nextCursor! });
      expect(second.items.map((j) => j.jobId)).toEqual(['job-1', 'job-0']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('lists only the jobs of one status when asked', async () => {
      for (let i = 0; i < 4; i++) await jobs.create({ ...job, jobId: `job-${i}` }, at(i));
      await jobs.markRunning(job.userId, 'job-1', at(10));
      await jobs.markRunning(job.userId, 'job-3', at(11));

      const running = await jobs.list(job.userId, { limit: 10, status: 'running' });

      expect(running.items.map((j) => j.jobId)).toEqual(['job-3', 'job-1']);
    });

    it("refuses another listing's cursor", async () => {
      for (let i = 0; i < 3; i++) await jobs.create({ ...job, jobId: `job-${i}` }, at(i));
      const page = await jobs.list(job.userId, { limit: 1 });

      await expect(
        jobs.list(newUserId(), { limit: 1, cursor: page.nextCursor! }),
      ).rejects.toMatchObject({ name: 'ValidationError' });
      await expect(
        jobs.list(job.userId, { limit: 1, cursor: page.nextCursor!, status: 'queued' }),
      ).rejects.toMatchObject({ name: 'ValidationError' });
    });
  });

  describe('checkpoints, spend and batches', () => {
    it('keeps each checkpoint, with how its answer ended, and the progress and spend so far', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      await jobs.saveCheckpoint(
        job.userId,
        job.jobId,
        { key: 'k1', text: 'Part one, summarized.' },
        { progress: { round: 1, partsDone: 1, partsTotal: 3 }, usage: USAGE, costNanoUsd: 10 },
        T2,
      );
      await jobs.saveCheckpoint(
        job.userId,
        job.jobId,
        { key: 'k2', text: 'Part two.', end: 'cut' },
        { progress: { round: 1, partsDone: 2, partsTotal: 3 }, usage: USAGE, costNanoUsd: 20 },
        T2,
      );

      expect(await jobs.checkpoints(job.userId, job.jobId)).toEqual(
        new Map([
          ['k1', { text: 'Part one, summarized.' }],
          ['k2', { text: 'Part two.', end: 'cut' }],
        ]),
      );
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'running',
        progress: { round: 1, partsDone: 2, partsTotal: 3 },
        usage: USAGE,
        costNanoUsd: 20,
      });
      expect(await jobs.checkpoints(newUserId(), job.jobId)).toEqual(new Map());
    });

    it('forgets the checkpoints of one job, and only of that job', async () => {
      const other = { ...job, jobId: newJobId() };
      const state = {
        progress: { round: 1, partsDone: 1, partsTotal: 1 },
        usage: USAGE,
        costNanoUsd: 1,
      };
      for (const each of [job, other]) {
        await jobs.create(each, T0);
        await jobs.saveCheckpoint(each.userId, each.jobId, { key: 'k1', text: 'Said.' }, state, T1);
      }

      await jobs.forgetCheckpoints(job.userId, job.jobId);

      expect(await jobs.checkpoints(job.userId, job.jobId)).toEqual(new Map());
      expect(await jobs.checkpoints(other.userId, other.jobId)).toEqual(
        new Map([['k1', { text: 'Said.' }]]),
      );
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({ costNanoUsd: 1 });
    });

    it('forgets only the checkpoints named, when keys are given', async () => {
      const state = {
        progress: { round: 1, partsDone: 2, partsTotal: 2 },
        usage: USAGE,
        costNanoUsd: 1,
      };
      await jobs.create(job, T0);
      await jobs.saveCheckpoint(job.userId, job.jobId, { key: 'k1', text: 'Said.' }, state, T1);
      await jobs.saveCheckpoint(
        job.userId,
        job.jobId,
        { key: 'k2', text: 'No.', end: 'refused' },
        state,
        T1,
      );

      await jobs.forgetCheckpoints(job.userId, job.jobId, ['k2']);

      expect(await jobs.checkpoints(job.userId, job.jobId)).toEqual(
        new Map([['k1', { text: 'Said.' }]]),
      );
    });

    it('records the spend of an attempt that did not finish the job', async () => {
      await jobs.create(job, T0);

      await jobs.recordSpend(job.userId, job.jobId, { usage: USAGE, costNanoUsd: 77 }, T1);

      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'queued',
        usage: USAGE,
        costNanoUsd: 77,
        updatedAt: T1,
      });
    });

    it('keeps the pending batch of a job dead-lettered: it still runs upstream', async () => {
      await jobs.create(job, T0);
      const batch = batchOf(job.userId);
      await jobs.setBatch(job.userId, job.jobId, batch, T1);

      await jobs.markFailed(
        job.userId,
        job.jobId,
        { status: 'dead_lettered', error: { type: 'overloaded_error', message: 'busy' } },
        T2,
      );

      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        status: 'dead_lettered',
        batch,
        updatedAt: T2,
      });
    });

    it("counts a collected batch in the job's spend once, marking it, and only the pending one", async () => {
      await jobs.create(job, T0);
      const batch = batchOf(job.userId);
      await jobs.setBatch(job.userId, job.jobId, batch, T1);

      const other = await jobs.countBatch(
        job.userId,
        job.jobId,
        'msgbatch_another',
        { usage: USAGE, costNanoUsd: 1 },
        T2,
      );
      const counted = await jobs.countBatch(
        job.userId,
        job.jobId,
        batch.batchId,
        { usage: USAGE, costNanoUsd: 9 },
        T2,
      );

      expect([other, counted]).toEqual([false, true]);
      expect(await jobs.get(job.userId, job.jobId)).toMatchObject({
        usage: USAGE,
        costNanoUsd: 9,
        batch: { ...batch, counted: true },
        updatedAt: T2,
      });
    });

    it('keeps a pending batch until it is cleared or the job succeeds', async () => {
      await jobs.create(job, T0);
      const batch = batchOf(job.userId);

      await jobs.setBatch(job.userId, job.jobId, batch, T1);
      expect((await jobs.get(job.userId, job.jobId))?.batch).toEqual(batch);
      await jobs.setBatch(job.userId, job.jobId, undefined, T2);
      expect((await jobs.get(job.userId, job.jobId))?.batch).toBeUndefined();

      await jobs.setBatch(job.userId, job.jobId, batch, T2);
      await jobs.markSucceeded(
        job.userId,
        job.jobId,
        { summary: 'Done.', usage: USAGE, costNanoUsd: 5 },
        T2,
      );
      expect((await jobs.get(job.userId, job.jobId))?.batch).toBeUndefined();
    });
  });
}
