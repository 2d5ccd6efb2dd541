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

    it('stores why a job failed', async () => {
      await jobs.create(job, T0);
      await jobs.markRunning(job.userId, job.jobId, T1);

      await jobs.markFailed(
        job.userId,
        job.jobId,
        { type: 'overloaded_error', message: 'the model is overloaded' },
        T2,
      );

      expect(await jobs.get(job.userId, job.jobId)).toEqual({
        ...job,
        status: 'failed',
        createdAt: T0,
        updatedAt: T2,
        attempts: 1,
        error: { type: 'overloaded_error', message: 'the model is overloaded' },
      });
    });

    it('forgets an earlier failure once the job succeeds', async () => {
      await jobs.create(job, T0);
      await jobs.markFailed(job.userId, job.jobId, { type: 'api_error', message: 'boom' }, T1);

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
}
