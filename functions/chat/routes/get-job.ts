import { NotFoundError } from '../../../shared/domain/errors.js';
import { isGeneratedJobId } from '../../../shared/domain/ids.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import type { JobStore } from '../../../shared/ports/job-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';

/** GET /v1/jobs/{id}: the job's status and, once done, its result or error. */
export const getJobRoute = (deps: { jobs: Pick<JobStore, 'get'> }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/jobs/:id',
    handle: async ({ params, principal }) => {
      const jobId = params.id ?? '';
      const job = isGeneratedJobId(jobId)
        ? await deps.jobs.get(principal.userId, jobId)
        : undefined;
      if (!job) throw new NotFoundError(`job ${JSON.stringify(jobId)} does not exist`);
      return json(200, {
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
  });
