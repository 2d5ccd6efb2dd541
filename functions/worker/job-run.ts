import { createHash } from 'node:crypto';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { JobProgress, KeptAnswer, PendingBatch } from '../../shared/ports/job-store.js';
import type { ModelRequest } from '../../shared/ports/model.js';
import type { AnswerEnds } from './answer-ends.js';
import type { JobDeadline } from './job-deadline.js';
import type { JobMeter } from './metered-model.js';

/** One model call a job needs, named by what it asks: the same call is never paid twice. */
export interface ModelCall {
  /** A digest of the model, prompt and limit (32 hex): the checkpoint key and batch custom id. */
  key: string;
  request: Pick<ModelRequest, 'model' | 'system' | 'messages' | 'maxTokens'>;
}

/** Calls that can run side by side: the parts of one document, or their summaries. */
export interface Round {
  /** 1 for a document's parts, 2 and on for summaries of summaries. */
  round: number;
  calls: ModelCall[];
  /** Aborts the round's calls made now, cut where they are: the job is no longer wanted (its conversation deleted). */
  signal?: AbortSignal;
}

/** The answers of a round's calls, in order: made now, or later through a batch. */
export type RunRound = (round: Round, run: JobRun) => Promise<string[]>;

export function modelCall(request: ModelCall['request']): ModelCall {
  const key = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 32);
  return { key, request };
}

/**
 * One attempt at a job: who it is for, its meter (usage and cost across attempts), its
 * deadline, the results earlier attempts kept, and how its rounds of calls are made.
 */
export interface JobRun {
  readonly userId: string;
  readonly jobId: string;
  /** The API key the job was asked for with: its own budget binds the job's calls too. */
  readonly apiKeyId?: string;
  readonly meter: JobMeter;
  readonly deadline: JobDeadline;
  /** Answers kept by earlier attempts (and this one), by call key, with how they ended. */
  readonly checkpoints: ReadonlyMap<string, KeptAnswer>;
  /**
   * Aborted once the job's user asked to cancel it: calls made now stop where they are (paid
   * for what they generated), and no other is made; a batch is cancelled upstream.
   */
  readonly cancel: AbortSignal;
  /** The batch this job waits for, if any. */
  readonly pendingBatch: PendingBatch | undefined;
  /** Makes (or collects) a round's calls. */
  round(round: Round): Promise<string[]>;
  /** How its answers ended: cut at their limit, refused. Rounds note each answer they return, kept ones too. */
  readonly ends: AnswerEnds;
  /** Keeps an answer, and how it ended, so a retry does not make the call again; reports progress. */
  checkpoint(key: string, answer: KeptAnswer, progress: JobProgress): Promise<void>;
  /** Records the batch the job now waits for (undefined: none). */
  setPendingBatch(batch: PendingBatch | undefined): Promise<void>;
  /**
   * Adds the pending batch's cost to the meter once its answers are collected, after
   * recording it with the job's spend and the batch marked counted: a batch collected again
   * (its clearing lost) is counted once.
   * @returns whether it was counted now, not before
   */
  countBatch(spent: { usage: TokenUsage; costNanoUsd: number }): Promise<boolean>;
  /** Total usage and cost so far. */
  readonly usage: JobMeter['usage'];
  readonly costNanoUsd: number;
}
