import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { JOB_STATUSES, type Job } from '../../../shared/ports/job-store.js';
import * as z from '../../../shared/validation/zod.js';
import { countSchema, instantSchema, recordedUsageSchema, usdSchema } from '../response-schemas.js';

/** A job as GET /v1/jobs/{id} and GET /v1/jobs show it. */
export function jobView(job: Job) {
  return {
    jobId: job.jobId,
    type: job.type,
    status: job.status,
    ...(job.priority && { priority: job.priority }),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    attempts: job.attempts,
    ...(job.progress && { progress: job.progress }),
    ...(job.batch && { batch: { batchId: job.batch.batchId, submittedAt: job.batch.submittedAt } }),
    ...(job.result && { result: job.result }),
    ...(job.error && { error: job.error }),
    ...(job.conflict && { conflict: job.conflict }),
    ...(job.cancelRequestedAt && { cancelRequestedAt: job.cancelRequestedAt }),
    ...(job.usage && { usage: job.usage }),
    ...(job.costNanoUsd !== undefined && { costUsd: nanoToUsd(job.costNanoUsd) }),
  } satisfies z.infer<ReturnType<typeof jobViewSchema>>;
}

/** The schema of {@link jobView}, for the API document. */
export const jobViewSchema = () =>
  z.object({
    jobId: z.string(),
    type: z.enum(['summarize.document', 'summarize.conversation']),
    status: z
      .enum(JOB_STATUSES)
      .check(
        z.describe(
          '`queued` also between a failed attempt and its retry; `dead_lettered`: its message is in the dead-letter queue, and a redrive runs it again.',
        ),
      ),
    priority: z.optional(z.enum(['standard', 'batch'])),
    createdAt: instantSchema(),
    updatedAt: instantSchema(),
    /** Deliveries that started it (a batch job's follow-ups are not counted). */
    attempts: countSchema(),
    progress: z.optional(
      z.object({ round: countSchema(), partsDone: countSchema(), partsTotal: countSchema() }),
    ),
    batch: z.optional(z.object({ batchId: z.string(), submittedAt: instantSchema() })),
    result: z.optional(
      z
        .object({
          summary: z.string(),
          truncated: z.optional(
            z
              .literal(true)
              .check(
                z.describe(
                  "The summary ended at its limit (`summaryMaxTokens`; 350,000 bytes, the most one item stores; or the model's context window): it was cut.",
                ),
              ),
          ),
        })
        .check(
          z.describe(
            "A document's summary. A conversation's is kept by the conversation alone (and its `job.ended` event), so that deleting the conversation deletes it.",
          ),
        ),
    ),
    error: z.optional(
      z
        .object({ type: z.string(), message: z.string() })
        .check(
          z.describe(
            'Why it failed; on a job that has not ended (or was cancelled between retries), why its last attempt failed.',
          ),
        ),
    ),
    conflict: z.optional(z.object({ message: z.string(), at: instantSchema() })),
    cancelRequestedAt: z.optional(
      instantSchema().check(
        z.describe(
          'When its user asked to cancel it while it ran: it stops and ends `cancelled` shortly (unless it ended first).',
        ),
      ),
    ),
    usage: z.optional(recordedUsageSchema()),
    costUsd: z.optional(usdSchema()),
  });
