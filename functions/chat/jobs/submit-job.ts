import { type ApiKeyGrant, checkKeyAllowsModel } from '../../../shared/domain/api-key.js';
import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError, PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { allowedModel } from '../../../shared/domain/model-id.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { quoted } from '../../../shared/domain/quoted.js';
import { utf8Bytes } from '../../../shared/domain/tokens.js';
import { contentHashOf, jobIdOf } from '../../../shared/jobs/job-id.js';
import type { JobPriority } from '../../../shared/jobs/job-message.js';
import type { JobQueue } from '../../../shared/ports/job-queue.js';
import type { Job, JobStatus, JobStore } from '../../../shared/ports/job-store.js';

export interface DocumentJobRequest {
  userId: string;
  text: string;
  instructions?: string;
  model?: string;
  /** The caller's own id: the idempotency key. @default a hash of the content */
  jobId?: string;
  priority?: JobPriority;
}

export type SubmitJob = (
  request: DocumentJobRequest & { apiKey?: ApiKeyGrant },
) => Promise<{ jobId: string; status: JobStatus }>;

/**
 * Queues a document summary. The same document twice is one job: its id is the caller's,
 * or a hash of the content, and the worker processes a job id once; the same id with
 * other content is refused (409). The job is recorded before its message is sent, with a
 * single conditional write, so that of two callers racing with one id and two contents
 * one is refused; a message the queue refuses takes its job away again. A job that failed
 * or was cancelled runs again when it is asked for again.
 * @throws NotFoundError for a model there is not, ValidationError for one not allowed: nothing
 *   recorded or sent
 */
export function createJobSubmission(deps: {
  jobs: Pick<JobStore, 'create' | 'get' | 'discard' | 'requeue' | 'cancel' | 'markFailed'>;
  queue: JobQueue;
  clock: Clock;
  prices: Pick<PriceTable, 'has'>;
  limits: { maxDocumentBytes: number; models: ReadonlySet<string>; defaultModel: string };
}): SubmitJob {
  const { limits } = deps;
  return async ({ apiKey, ...request }) => {
    if (utf8Bytes(request.text) > limits.maxDocumentBytes) {
      throw new PayloadTooLargeError(
        `text must be at most ${limits.maxDocumentBytes} bytes (UTF-8) to fit one queue message`,
      );
    }
    // Refused as a chat turn is (404 for a model there is not, 400 for one not allowed).
    const model = allowedModel(request.model ?? limits.defaultModel, limits.models, deps.prices);
    checkKeyAllowsModel(apiKey, model);
    const { priority, ...fields } = request;
    const message = {
      type: 'summarize.document' as const,
      ...fields,
      ...(priority === 'batch' && { priority }),
      // Its calls are held to the key's own budget too; the job id and hash do not name it.
      ...(apiKey && { apiKeyId: apiKey.id }),
    };
    const jobId = jobIdOf(message);
    const contentHash = contentHashOf(message);
    const nowIso = new Date(deps.clock()).toISOString();
    const job = await deps.jobs.create(
      {
        jobId,
        userId: request.userId,
        type: message.type,
        contentHash,
        ...(priority === 'batch' && { priority }),
      },
      nowIso,
    );
    // Another type's job under this id (a conversation's compaction, whose id its user can
    // work out) is another content's too, and is left as it is.
    if (
      job.type !== message.type ||
      (job.contentHash !== undefined && job.contentHash !== contentHash)
    ) {
      throw new ConflictError(
        `job id ${quoted(jobId)} is already used for other content: choose another id`,
      );
    }
    if (job.status === 'failed' || job.status === 'cancelled') {
      // Asked again after it failed (the budget raised, say) or was cancelled: it runs again.
      const again = await deps.jobs.requeue(request.userId, jobId, nowIso);
      if (again?.status !== 'queued') return { jobId, status: again?.status ?? job.status };
      await sendOrUndo(() => putBack(job));
      return { jobId, status: again.status };
    }
    // A repeat of a job running, waiting for its retry or done is that job. One never
    // started is sent again, in case the first send failed: the worker runs a job id once.
    if (job.status !== 'queued' || job.attempts > 0) return { jobId, status: job.status };
    await sendOrUndo(() => deps.jobs.discard(request.userId, jobId, contentHash));
    return { jobId, status: job.status };

    async function sendOrUndo(undo: () => Promise<unknown>) {
      try {
        // Asked for when recorded: a cancel landing before the send is not undone by it.
        await deps.queue.send({ ...message, jobId }, { askedAt: nowIso });
      } catch (error) {
        // The send's failure is the one the caller must hear of, not the clean-up's.
        await undo().catch(() => undefined);
        throw error;
      }
    }

    /** A job requeued whose message could not be sent ends as it was. */
    function putBack(before: Job) {
      return before.status === 'cancelled'
        ? deps.jobs.cancel(request.userId, jobId, nowIso)
        : deps.jobs.markFailed(
            request.userId,
            jobId,
            { status: 'failed', error: before.error ?? { type: 'api_error', message: 'failed' } },
            nowIso,
          );
    }
  };
}
