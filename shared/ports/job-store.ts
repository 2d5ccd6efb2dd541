import type { TokenUsage } from '../domain/usage.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  jobId: string;
  userId: string;
  type: 'summarize.document' | 'summarize.conversation';
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  result?: { summary: string };
  error?: { type: string; message: string };
  usage?: TokenUsage;
  costNanoUsd?: number;
}

/** Job records, per user. */
export interface JobStore {
  /** Creates the job as `queued` unless it exists. @returns the job as stored */
  create(job: Pick<Job, 'jobId' | 'userId' | 'type'>, nowIso: string): Promise<Job>;
  get(userId: string, jobId: string): Promise<Job | undefined>;
  markRunning(userId: string, jobId: string, nowIso: string): Promise<void>;
  markSucceeded(
    userId: string,
    jobId: string,
    outcome: { summary: string; usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<void>;
  markFailed(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<void>;
}
