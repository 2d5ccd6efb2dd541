import { createHash } from 'node:crypto';
import type { JobMessage } from './job-message.js';

/** The job id a message names, or the deterministic one its content gives. */
export function jobIdOf(message: JobMessage): string {
  if (message.jobId) return message.jobId;
  const content =
    message.type === 'summarize.document'
      ? [
          message.type,
          message.userId,
          message.text,
          message.instructions ?? '',
          message.model ?? '',
        ]
      : [message.type, message.userId, message.conversationId];
  return `job_${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
}

/**
 * One compaction job per conversation, summary point and multiple of the threshold the
 * history has reached: asking again while it is pending is the same job, and a history
 * that keeps growing past a finished one asks anew.
 */
export function compactionJobId(
  userId: string,
  conversationId: string,
  summaryThroughSeq: number,
  thresholdMultiple: number,
): string {
  const content = [
    'summarize.conversation',
    userId,
    conversationId,
    summaryThroughSeq,
    thresholdMultiple,
  ];
  return `job_${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
}
