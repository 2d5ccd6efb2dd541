import type { Page } from '../../shared/domain/conversation.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { PageRequest } from '../../shared/ports/conversation-store.js';
import type {
  Job,
  JobCheckpoint,
  JobProgress,
  JobStatus,
  JobStore,
  KeptAnswer,
  PendingBatch,
} from '../../shared/ports/job-store.js';
import { decodeCursor, encodeCursor } from './fake-cursor.js';

/**
 * The JobStore port in memory, with the DynamoDB adapter's semantics: `create` keeps
 * an existing job exactly as it is; each `markRunning` counts an attempt, unless the
 * job was cancelled; listings are newest first with cursors bound to their listing.
 * Unlike the adapter (whose updates are unconditional), marking a job that was never
 * created stores nothing.
 */
export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly saved = new Map<string, Map<string, KeptAnswer>>();
  /** Every checkpoint saved, in order: what a test reads to see what a retry skipped. */
  readonly checkpointsSaved: Array<{ jobId: string; key: string }> = [];

  async create(
    job: Pick<Job, 'jobId' | 'userId' | 'type' | 'contentHash' | 'priority'>,
    nowIso: string,
  ): Promise<Job> {
    const key = keyOf(job.userId, job.jobId);
    const stored: Job = this.jobs.get(key) ?? {
      jobId: job.jobId,
      userId: job.userId,
      type: job.type,
      status: 'queued',
      createdAt: nowIso,
      updatedAt: nowIso,
      attempts: 0,
      ...(job.contentHash !== undefined && { contentHash: job.contentHash }),
      ...(job.priority === 'batch' && { priority: 'batch' as const }),
    };
    this.jobs.set(key, stored);
    return structuredClone(stored);
  }

  async discard(userId: string, jobId: string, contentHash: string): Promise<void> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (job?.status === 'queued' && job.attempts === 0 && job.contentHash === contentHash) {
      this.jobs.delete(keyOf(userId, jobId));
    }
  }

  async get(userId: string, jobId: string): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    return job && structuredClone(job);
  }

  async list(userId: string, page: PageRequest & { status?: JobStatus }): Promise<Page<Job>> {
    const owner = page.status ? `${userId}#${page.status}` : userId;
    const after = decodeCursor(page.cursor, owner);
    const all = [...this.jobs.values()]
      .filter((job) => job.userId === userId)
      .sort((a, b) => positionOf(b).localeCompare(positionOf(a)))
      .filter((job) => after === undefined || positionOf(job) < after);
    const items = all.filter((job) => !page.status || job.status === page.status);
    const taken = items.slice(0, page.limit);
    const result: Page<Job> = { items: taken.map((job) => structuredClone(job)) };
    const last = taken.at(-1);
    if (taken.length === page.limit && last && items.length > page.limit) {
      result.nextCursor = encodeCursor(owner, positionOf(last));
    }
    return result;
  }

  async cancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (!job) return undefined;
    if (job.status === 'queued' && !job.batch) {
      job.status = 'cancelled';
      job.updatedAt = nowIso;
    }
    return structuredClone(job);
  }

  async requestCancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (!job) return undefined;
    if (job.status === 'running' || (job.status === 'queued' && job.batch)) {
      job.cancelRequestedAt ??= nowIso;
    }
    return structuredClone(job);
  }

  async recordFailedDeliveries(
    userId: string,
    jobId: string,
    failedDeliveries: number,
  ): Promise<void> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (!job) return;
    if (failedDeliveries > 0) job.failedDeliveries = failedDeliveries;
    else delete job.failedDeliveries;
  }

  async cancelRequested(userId: string, jobId: string): Promise<boolean> {
    return this.jobs.get(keyOf(userId, jobId))?.cancelRequestedAt !== undefined;
  }

  async markCancelled(
    userId: string,
    jobId: string,
    spent: { usage: TokenUsage; costNanoUsd: number } | undefined,
    nowIso: string,
  ): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    const endable: ReadonlySet<string> = new Set(['running', 'queued', 'dead_lettered']);
    if (!job?.cancelRequestedAt || !endable.has(job.status)) {
      return undefined;
    }
    job.status = 'cancelled';
    job.updatedAt = nowIso;
    if (spent) {
      job.usage = structuredClone(spent.usage);
      job.costNanoUsd = spent.costNanoUsd;
    }
    return structuredClone(job);
  }

  async requeue(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (!job) return undefined;
    if (job.status === 'failed' || job.status === 'cancelled') {
      job.status = 'queued';
      job.updatedAt = nowIso;
      delete job.error;
      delete job.cancelRequestedAt;
    }
    return structuredClone(job);
  }

  async markRunning(userId: string, jobId: string, nowIso: string): Promise<boolean> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (job?.status === 'cancelled' || (job?.cancelRequestedAt && !job.batch)) return false;
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'running';
      job.attempts += 1;
    });
    return true;
  }

  async markSucceeded(
    userId: string,
    jobId: string,
    outcome: Parameters<JobStore['markSucceeded']>[2],
    nowIso: string,
  ): Promise<boolean> {
    if (!outcome.done && this.jobs.get(keyOf(userId, jobId))?.cancelRequestedAt) return false;
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'succeeded';
      if (outcome.summary === undefined) delete job.result;
      else job.result = { summary: outcome.summary, ...(outcome.truncated && { truncated: true }) };
      job.usage = structuredClone(outcome.usage);
      job.costNanoUsd = outcome.costNanoUsd;
      delete job.error;
      delete job.batch;
    });
    return true;
  }

  async markFailed(
    userId: string,
    jobId: string,
    ending: Parameters<JobStore['markFailed']>[2],
    nowIso: string,
  ): Promise<boolean> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (job?.cancelRequestedAt && !job.batch) return false;
    this.update(userId, jobId, nowIso, (job) => {
      job.status = ending.status;
      job.error = { ...ending.error };
    });
    return true;
  }

  async markRetrying(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<'queued' | 'cancel_asked' | 'left'> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (job?.status !== 'running' || job.batch) return 'left';
    if (job.cancelRequestedAt) return 'cancel_asked';
    this.update(userId, jobId, nowIso, (job) => {
      job.status = 'queued';
      job.error = { ...error };
    });
    return 'queued';
  }

  async recordSpend(
    userId: string,
    jobId: string,
    spent: { usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void> {
    this.update(userId, jobId, nowIso, (job) => {
      job.usage = structuredClone(spent.usage);
      job.costNanoUsd = spent.costNanoUsd;
    });
  }

  async recordConflict(
    userId: string,
    jobId: string,
    message: string,
    nowIso: string,
  ): Promise<void> {
    const job = this.jobs.get(keyOf(userId, jobId));
    if (job) job.conflict = { message, at: nowIso };
  }

  async saveCheckpoint(
    userId: string,
    jobId: string,
    checkpoint: JobCheckpoint,
    state: { progress: JobProgress; usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void> {
    const key = keyOf(userId, jobId);
    const saved = this.saved.get(key) ?? new Map<string, KeptAnswer>();
    const { key: _, ...kept } = checkpoint;
    saved.set(checkpoint.key, structuredClone(kept));
    this.saved.set(key, saved);
    this.checkpointsSaved.push({ jobId, key: checkpoint.key });
    this.update(userId, jobId, nowIso, (job) => {
      job.progress = { ...state.progress };
      job.usage = structuredClone(state.usage);
      job.costNanoUsd = state.costNanoUsd;
    });
  }

  async checkpoints(userId: string, jobId: string): Promise<Map<string, KeptAnswer>> {
    return new Map(this.saved.get(keyOf(userId, jobId)));
  }

  async forgetCheckpoints(userId: string, jobId: string, keys?: readonly string[]): Promise<void> {
    if (!keys) this.saved.delete(keyOf(userId, jobId));
    for (const key of keys ?? []) this.saved.get(keyOf(userId, jobId))?.delete(key);
  }

  async countBatch(
    userId: string,
    jobId: string,
    batchId: string,
    spent: { usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<boolean> {
    if (this.jobs.get(keyOf(userId, jobId))?.batch?.batchId !== batchId) return false;
    this.update(userId, jobId, nowIso, (job) => {
      job.usage = structuredClone(spent.usage);
      job.costNanoUsd = spent.costNanoUsd;
      job.batch = { ...job.batch!, counted: true };
    });
    return true;
  }

  async setBatch(
    userId: string,
    jobId: string,
    batch: PendingBatch | undefined,
    nowIso: string,
  ): Promise<void> {
    this.update(userId, jobId, nowIso, (job) => {
      if (batch) job.batch = structuredClone(batch);
      else delete job.batch;
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

/** Where a job sorts in the list: as the adapter's index sort key. */
const positionOf = (job: Job) => `${job.createdAt}#${job.jobId}`;
