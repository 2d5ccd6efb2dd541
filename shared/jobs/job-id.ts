import { createHash } from 'node:crypto';
import { isGeneratedJobId } from '../domain/ids.js';
import type { Job } from '../ports/job-store.js';
import type {
  JobMessage,
  SummarizeConversationMessage,
  SummarizeDocumentMessage,
} from './job-message.js';

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
 * Whether a document names an id of the form the service gives (`job_` and 32 hex digits)
 * other than its content's own. Those ids are the service's: a conversation's compaction
 * has one that its user can work out (from the conversation's id and creation time), and
 * a document holding it would make the compaction fail. The content's own id stays the
 * document's to name: a producer asking again with the id it was told is that job.
 */
export function takesServiceJobId(message: SummarizeDocumentMessage): boolean {
  const { jobId, ...content } = message;
  return jobId !== undefined && isGeneratedJobId(jobId) && jobId !== jobIdOf(content);
}

/** Why {@link takesServiceJobId} refuses a document's id. */
export const SERVICE_JOB_ID_REFUSAL =
  'jobId must not be of the form the service gives its own jobs (job_ and 32 hex digits) unless it is the id the content gives: leave it out, or choose another';

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
 * compactions recorded their content hash has none), rather than another job that took
 * its id: a document a producer named so before such ids were refused.
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
