import type { TokenUsage } from '../../shared/domain/usage.js';
import type { Job, JobStore } from '../../shared/ports/job-store.js';

/**
 * The JobStore port in memory, with the DynamoDB adapter's semantics: `create` keeps
 * an existing job exactly as it is; each `markRunning` counts an attempt.
 * Unlike the adapter (whose updates are unconditional), marking a job that was never
 * created stores nothing.
 */
export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, Job>();

  async create(job: Pick<Job, 'jobId' | 'userId' | 'type'>, nowIso: string): Promise<Job> {
    const key = keyOf(job.userId, job.jobId);
    const stored = this.jobs.get(key) ?? {
      jobId: job.jobId,
      userId: job.userId,
      type: job.type,
      status: 'queued',
      createdAt: nowIso,
      updatedAt: nowIso,
      attempts: 0,
    };
    this.jobs.set(key, stored);
    return structuredClone(stored);
  }

  async get(userId: string, jobId: string): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    return job && structuredClone(job);
  }

  async markRunning(userId: string, jobId: string, nowIso: string): Promise<void> {
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'running';
      job.attempts += 1;
    });
  }

  async markSucceeded(
    userId: string,
    jobId: string,
    outcome: { summary: string; usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void> {
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'succeeded';
      job.result = { summary: outcome.summary };
      job.usage = structuredClone(outcome.usage);
      job.costNanoUsd = outcome.costNanoUsd;
      delete job.error;
    });
  }

  async markFailed(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<void> {
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'failed';
      job.error = { type: error.type, message: error.message };
    });
  }

  private update(userId: string, jobId: string, nowIso: string, change: (job: Job) => void) {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (!job) return;
    change(job);
    job.updatedAt = nowIso;
  }
}

const keyOf = (userId: string, jobId: string) => `${userId}\u0000${jobId}`;
