import { JOB_ID_PATTERN } from '../../../shared/domain/ids.js';
import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { jobViewSchema } from '../jobs/job-view.js';
import type { SubmitJob } from '../jobs/submit-job.js';

const JobRequestSchema = z.strictObject({
  type: z.literal('summarize'),
  text: z.string().check(z.refine((text) => text.trim().length > 0, 'text must not be empty')),
  instructions: z.optional(z.string().check(...maxChars(4000))),
  model: z.optional(z.string().check(z.minLength(1), ...maxChars(100))),
  /** Your own id: the idempotency key (the same id with other content is a 409). */
  jobId: z.optional(
    z
      .string()
      .check(
        z.regex(JOB_ID_PATTERN, 'jobId must be 1-128 letters, digits and ._:-, not only dots'),
      ),
  ),
  /** `batch`: through the Message Batches API, at half the token price, within 24 hours. */
  priority: z.optional(z.enum(['standard', 'batch'])),
});

/** POST /v1/jobs: queues a document summary; the same document (or job id) twice is one job. */
export const createJobRoute = (deps: { submitJob: SubmitJob }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/jobs',
    body: JobRequestSchema,
    docs: {
      operationId: 'createJob',
      summary: 'Queue a document summary',
      description:
        'The same document (or the same `jobId`) twice is one job; `priority: batch` runs it through the Message Batches API at half the token price, within 24 hours. Follow it with GET /v1/jobs/{id}.',
      responses: {
        202: { description: 'Queued, or the job already there.', json: jobAcceptedSchema },
      },
      errors: [403, 404, 409, 413],
    },
    handle: async ({ body: { type: _, ...request }, principal }) =>
      json(
        202,
        (await deps.submitJob({
          ...request,
          userId: principal.userId,
          ...(principal.apiKey && { apiKey: principal.apiKey }),
        })) satisfies z.infer<ReturnType<typeof jobAcceptedSchema>>,
      ),
  });

const jobAcceptedSchema = () =>
  z.object({ jobId: z.string(), status: jobViewSchema().shape.status });
