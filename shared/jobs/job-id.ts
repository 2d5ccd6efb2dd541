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

/** One compaction job per conversation and history length: a retry is the same job. */
export function compactionJobId(
  userId: string,
  conversationId: string,
  throughSeq: number,
): string {
  const content = ['summarize.conversation', userId, conversationId, throughSeq];
  return `job_${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
}
