import { NotFoundError } from '../../../shared/domain/errors.js';
import { isJobId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import type { CancelJob } from '../jobs/cancel-job.js';
import { jobView, jobViewSchema } from '../jobs/job-view.js';

/** POST /v1/jobs/{id}/cancel: cancels a job queued, and stops one running. */
export const cancelJobRoute = (deps: { cancelJob: CancelJob }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/jobs/:id/cancel',
    docs: {
      operationId: 'cancelJob',
      summary: 'Cancel a job',
      description:
        'A job still `queued` (not started, or waiting for its retry) becomes `cancelled` and never runs (200). A job `running` is asked to stop (202, `cancelRequestedAt` set): its worker cuts its Claude calls within about a second (a batch job cancels its batch upstream at its next look, every `batchPollSeconds`, and waits for it to end), then ends it `cancelled` with the usage and cost of what was generated until then. So is a job `queued` that holds a batch (a failed batch job asked for again: 202, still `queued` with `cancelRequestedAt`): its run cancels the batch upstream and bills what it processed. Either end is published once (`job.ended`, `cancelled`). A repeat answers the job as it is; a job that has ended (it succeeded, say, as the cancel landed) is a 409.',
      params: { id: 'The job id: ours (`job_…`) or the producer’s own.' },
      responses: {
        200: { description: 'The job, cancelled.', json: jobViewSchema },
        202: {
          description:
            'The job, still `running` (or `queued` holding a batch), with `cancelRequestedAt`: it ends `cancelled` shortly.',
          json: jobViewSchema,
        },
      },
      errors: [404, 409],
    },
    handle: async ({ params, principal }) => {
      const jobId = params.id ?? '';
      if (!isJobId(jobId)) throw new NotFoundError(`job ${quoted(jobId)} does not exist`);
      const job = await deps.cancelJob(principal.userId, jobId);
      return json(job.status === 'cancelled' ? 200 : 202, jobView(job));
    },
  });
