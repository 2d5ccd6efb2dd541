import {
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { utf8Bytes } from '../../../shared/domain/tokens.js';
import { jsonResponse } from '../../../shared/http/json-response.js';
import { parseJsonBody } from '../../../shared/http/parse-request.js';
import { jobIdOf } from '../../../shared/jobs/job-id.js';
import * as z from '../../../shared/validation/zod.js';
import type { Route } from '../router.js';

const JobRequestSchema = z.strictObject({
  type: z.literal('summarize'),
  text: z.string().check(z.refine((text) => text.trim().length > 0, 'text must not be empty')),
  instructions: z.optional(z.string().check(z.maxLength(4000))),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
});

/** POST /v1/jobs: queues a document summary; the same document twice is one job. */
export const createJobRoute: Route = {
  method: 'POST',
  path: '/v1/jobs',
  handle: async ({ deps, event }, { userId }) => {
    const request = parseJsonBody(event, JobRequestSchema);
    const { settings } = deps;
    if (utf8Bytes(request.text) > settings.MAX_DOCUMENT_BYTES) {
      throw new PayloadTooLargeError(
        `text must be at most ${settings.MAX_DOCUMENT_BYTES} bytes (UTF-8) to fit one queue message`,
      );
    }
    if (request.model && !settings.allowedModels.has(request.model)) {
      throw new ValidationError(`model ${JSON.stringify(request.model)} is not allowed`);
    }
    const message = {
      type: 'summarize.document' as const,
      userId,
      text: request.text,
      ...(request.instructions && { instructions: request.instructions }),
      ...(request.model && { model: request.model }),
    };
    const jobId = jobIdOf(message);
    const now = new Date((deps.clock ?? Date.now)()).toISOString();
    const job = await deps.jobs.create({ jobId, userId, type: message.type }, now);
    // A job created just now is sent; a repeat of a queued one is sent again too, in
    // case the first send failed — the worker processes a job id once.
    if (job.status === 'queued') await deps.queue.send({ ...message, jobId });
    return jsonResponse(202, { jobId, status: job.status });
  },
};

/** GET /v1/jobs/{id}: the job's status and, once done, its result or error. */
export const getJobRoute: Route = {
  method: 'GET',
  path: '/v1/jobs/{id}',
  handle: async ({ deps, params }, { userId }) => {
    const jobId = params.id ?? '';
    const job = /^job_[a-f0-9]{32}$/.test(jobId) ? await deps.jobs.get(userId, jobId) : undefined;
    if (!job) throw new NotFoundError(`job ${JSON.stringify(jobId)} does not exist`);
    return jsonResponse(200, {
      jobId: job.jobId,
      type: job.type,
      status: job.status,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      ...(job.result && { result: job.result }),
      ...(job.error && { error: job.error }),
      ...(job.usage && { usage: job.usage }),
      ...(job.costNanoUsd !== undefined && { costUsd: nanoToUsd(job.costNanoUsd) }),
    });
  },
};
