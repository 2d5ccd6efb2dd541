import { NotFoundError } from '../../../shared/domain/errors.js';
import { isJobId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';
import type { JobStore } from '../../../shared/ports/job-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { jobView, jobViewSchema } from '../jobs/job-view.js';

/** GET /v1/jobs/{id}: the job's status and, once done, its result or error. */
export const getJobRoute = (deps: { jobs: Pick<JobStore, 'get'> }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/jobs/:id',
    docs: {
      operationId: 'getJob',
      summary: "A job's status and, once it ended, its result or error",
      params: { id: 'The job id: ours (`job_…`) or the producer’s own.' },
      responses: { 200: { description: 'The job.', json: jobViewSchema } },
      errors: [404],
    },
    handle: async ({ params, principal }) => {
      const jobId = params.id ?? '';
      const job = isJobId(jobId) ? await deps.jobs.get(principal.userId, jobId) : undefined;
      if (!job) throw new NotFoundError(`job ${quoted(jobId)} does not exist`);
      return json(200, jobView(job));
    },
  });
