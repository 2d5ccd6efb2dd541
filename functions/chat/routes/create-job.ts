import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import type { SubmitJob } from '../jobs/submit-job.js';

const JobRequestSchema = z.strictObject({
  type: z.literal('summarize'),
  text: z.string().check(z.refine((text) => text.trim().length > 0, 'text must not be empty')),
  instructions: z.optional(z.string().check(z.maxLength(4000))),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
});

/** POST /v1/jobs: queues a document summary; the same document twice is one job. */
export const createJobRoute = (deps: { submitJob: SubmitJob }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/jobs',
    body: JobRequestSchema,
    handle: async ({ body: { type: _, ...request }, principal }) =>
      json(
        202,
        await deps.submitJob({
          ...request,
          userId: principal.userId,
          ...(principal.apiKey && { apiKey: principal.apiKey }),
        }),
      ),
  });
