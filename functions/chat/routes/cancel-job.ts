import { NotFoundError } from '../../../shared/domain/errors.js';
import { isJobId } from '../../../shared/domain/ids.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import type { CancelJob } from '../jobs/cancel-job.js';
import { jobView, jobViewSchema } from '../jobs/job-view.js';

/** POST /v1/jobs/{id}/cancel: cancels a job that has not started yet. */
export const cancelJobRoute = (deps: { cancelJob: CancelJob }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/jobs/:id/cancel',
    docs: {
      operationId: 'cancelJob',
      summary: 'Cancel a queued job',
      description:
        'A job still `queued` becomes `cancelled` and never runs; its end is published (`job.ended`, `cancelled`). A repeat answers the job as it is, cancelled (its end published once); a job running, or ended otherwise, is a 409.',
      params: { id: 'The job id: ours (`job_…`) or the producer’s own.' },
      responses: { 200: { description: 'The job, cancelled.', json: jobViewSchema } },
      errors: [404, 409],
    },
    handle: async ({ params, principal }) => {
      const jobId = params.id ?? '';
      if (!isJobId(jobId)) throw new NotFoundError(`job ${JSON.stringify(jobId)} does not exist`);
      return json(200, jobView(await deps.cancelJob(principal.userId, jobId)));
    },
  });
