import { createHash } from 'node:crypto';
import type { Job } from '../ports/job-store.js';
import type { JobMessage, SummarizeConversationMessage } from './job-message.js';

const sha256 = (content: unknown) =>
  createHash('sha256').update(JSON.stringify(content)).digest('hex');

/**
 * A digest of what a job is asked to do (never its id): two messages with the same id
 * and another content hash are two different jobs claiming one id.
 */
export function contentHashOf(message: JobMessage): string {
  const content =
    message.type === 'summarize.document'
      ? [
          message.type,
          message.userId,
          message.text,
          message.instructions ?? '',
          message.model ?? '',
          // Only when asked: a standard job keeps the id it always had.
          ...(message.priority === 'batch' ? ['batch'] : []),
        ]
      : [message.type, message.userId, message.conversationId];
  return sha256(content);
}

/** The job id a message names, or the deterministic one its content gives. */
export function jobIdOf(message: JobMessage): string {
  if (message.jobId) return message.jobId;
  return `job_${contentHashOf(message).slice(0, 32)}`;
}

/**
 * One compaction job per conversation, summary point and multiple of the threshold the
 * history has reached: asking again while it is pending is the same job, and a history
 * that keeps growing past a finished one asks anew. A conversation deleted and made again
 * under its id (a useChat chat's) is another: its jobs are not the first one's, which
 * stay for 30 days and would have it never compacted at the points the first one was.
 * `alternate`: the id to use when another job holds the first (see {@link isCompaction}).
 */
export function compactionJobId(
  userId: string,
  conversation: { id: string; createdAt: string },
  summaryThroughSeq: number,
  thresholdMultiple: number,
  { alternate = false }: { alternate?: boolean } = {},
): string {
  const content = [
    'summarize.conversation',
    userId,
    conversation.id,
    conversation.createdAt,
    summaryThroughSeq,
    thresholdMultiple,
    // Only for the alternate: every compaction keeps the id it always had.
    ...(alternate ? ['alternate'] : []),
  ];
  return `job_${sha256(content).slice(0, 32)}`;
}

/**
 * Whether the job stored under a compaction's id is that compaction (one made before
 * compactions recorded their content hash has none), rather than a document its user
 * named so: the id is a hash of what the user can read (the conversation's id and
 * creation time), and a document holding it first must not make the compaction fail.
 */
export function isCompaction(
  job: Pick<Job, 'type' | 'contentHash'>,
  message: SummarizeConversationMessage,
): boolean {
  return (
    job.type === 'summarize.conversation' &&
    (job.contentHash === undefined || job.contentHash === contentHashOf(message))
  );
}
