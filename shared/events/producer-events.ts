import { nanoToUsd } from '../domain/pricing/model-price.js';
import { queueJson } from '../domain/queue-json.js';
import { utf8Bytes } from '../domain/tokens.js';
import type { TokenUsage } from '../domain/usage.js';
import type { Job, JobProgress } from '../ports/job-store.js';

/**
 * The events producers subscribe to (an SNS topic: SQS, HTTPS, Lambda or e-mail), in
 * one JSON shape each. Every event carries `version`, `type` and `at`; the message
 * attributes of {@link eventAttributes} let a subscription filter without reading it.
 */
export type ProducerEvent =
  | JobEndedEvent
  | JobProgressEvent
  | MessageRefusedEvent
  | BudgetThresholdEvent;

/**
 * How a job ended. `dead_lettered`: its message is in the dead-letter queue, for a person;
 * a redrive runs the job again, and it ends once more.
 */
export type JobEndStatus = 'succeeded' | 'failed' | 'dead_lettered' | 'cancelled';

export interface JobEndedEvent {
  version: 1;
  type: 'job.ended';
  at: string;
  jobId: string;
  userId: string;
  /** The job's type, e.g. `summarize.document`; absent for a message too broken to say. */
  jobType?: string;
  status: JobEndStatus;
  priority?: 'batch';
  /**
   * The summary inline when it fits in an event; else its size and, for a document, where to
   * read it. A conversation's is kept by the conversation alone (its job keeps none): no `fetch`.
   */
  result?:
    | { summary: string; truncated?: true }
    | { summaryBytes: number; fetch?: string; truncated?: true };
  usage?: TokenUsage;
  costUsd?: number;
  error?: { type: string; message: string };
}

export interface JobProgressEvent {
  version: 1;
  type: 'job.progress';
  at: string;
  jobId: string;
  userId: string;
  progress: JobProgress;
}

/**
 * A message that was not run because its job id is another message's job, of other
 * content: not that job's end (it goes on, and ends with its own `job.ended`). The message
 * is in the dead-letter queue.
 */
export interface MessageRefusedEvent {
  version: 1;
  type: 'message.refused';
  at: string;
  jobId: string;
  userId: string;
  jobType: string;
  error: { type: 'conflict_error'; message: string };
}

export interface BudgetThresholdEvent {
  version: 1;
  type: 'budget.threshold';
  at: string;
  /**
   * `principal`: one user's (or key principal's) monthly budget; `key`: one API key's own;
   * `deployment`: the global one.
   */
  scope: 'principal' | 'key' | 'deployment';
  /** The principal, or the key's principal. */
  userId?: string;
  /** The key, for `scope: key`. */
  keyId?: string;
  /** `yyyy-mm` */
  month: string;
  /** The threshold crossed: 50, 80 or 100. */
  percent: number;
  spentUsd: number;
  budgetUsd: number;
}

/** Thresholds a budget event is sent for, each once per scope and month. */
export const BUDGET_THRESHOLDS_PERCENT = [50, 80, 100] as const;

/**
 * A summary longer than this, as JSON, goes by reference: SNS takes 256 KiB a message,
 * and the event's other fields need room.
 */
export const INLINE_SUMMARY_MAX_BYTES = 200_000;

/**
 * What names an event in a log line, for the operator to tell the producers that missed it:
 * its type and whose job it was, never its content (a summary).
 */
export function eventNamed(event: ProducerEvent): {
  type: ProducerEvent['type'];
  jobId?: string;
  userId?: string;
  status?: JobEndStatus;
} {
  return {
    type: event.type,
    ...('jobId' in event && { jobId: event.jobId }),
    ...(event.userId !== undefined && { userId: event.userId }),
    ...(event.type === 'job.ended' && { status: event.status }),
  };
}

/** Message attributes a subscription's filter policy can match on. */
export function eventAttributes(event: ProducerEvent): Record<string, string> {
  return {
    type: event.type,
    ...(event.type === 'job.ended' && { status: event.status }),
    ...(event.type === 'budget.threshold' && { scope: event.scope }),
    ...(event.userId !== undefined && { userId: event.userId }),
    ...(event.type === 'budget.threshold' && event.keyId !== undefined && { keyId: event.keyId }),
  };
}

/** The event of a job that ended, from its record and how it ended. */
export function jobEndedEvent(
  job: Pick<Job, 'jobId' | 'userId'> &
    Partial<Pick<Job, 'type' | 'priority' | 'usage' | 'costNanoUsd'>>,
  outcome: {
    status: JobEndStatus;
    summary?: string;
    /** The summary ended at its limit (`summaryMaxTokens`, the 350,000-byte cap, the context window). */
    truncated?: boolean;
    error?: { type: string; message: string };
    usage?: TokenUsage;
    costNanoUsd?: number;
  },
  at: string,
): JobEndedEvent {
  const usage = outcome.usage ?? job.usage;
  const costNanoUsd = outcome.costNanoUsd ?? job.costNanoUsd;
  return {
    version: 1,
    type: 'job.ended',
    at,
    jobId: job.jobId,
    userId: job.userId,
    ...(job.type && { jobType: job.type }),
    status: outcome.status,
    ...(job.priority === 'batch' && { priority: 'batch' as const }),
    ...(outcome.summary !== undefined && {
      result: resultOf(job, outcome.summary, outcome.truncated ?? false),
    }),
    ...(usage && { usage }),
    ...(costNanoUsd !== undefined && { costUsd: nanoToUsd(costNanoUsd) }),
    ...(outcome.error && { error: outcome.error }),
  };
}

function resultOf(
  job: Pick<Job, 'jobId'> & Partial<Pick<Job, 'type'>>,
  summary: string,
  truncated: boolean,
): JobEndedEvent['result'] {
  const cut = truncated ? { truncated: true as const } : {};
  // As it is published: escaping makes a quote two bytes, a control character six, an emoji 12.
  if (utf8Bytes(queueJson(summary)) <= INLINE_SUMMARY_MAX_BYTES) return { summary, ...cut };
  const summaryBytes = utf8Bytes(summary);
  // GET /v1/jobs/{id} shows a document's summary only: a conversation's job keeps none.
  if (job.type === 'summarize.conversation') return { summaryBytes, ...cut };
  return { summaryBytes, fetch: `GET /v1/jobs/${job.jobId}`, ...cut };
}
