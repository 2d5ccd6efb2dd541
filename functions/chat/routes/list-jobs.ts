import { JOB_STATUSES, type JobStore } from '../../../shared/ports/job-store.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { jobView, jobViewSchema } from '../jobs/job-view.js';
import { PageQuerySchema } from '../request-schemas.js';
import { nextCursorSchema } from '../response-schemas.js';

const ListJobsQuerySchema = z.extend(PageQuerySchema, {
  status: z.optional(z.enum(JOB_STATUSES)),
});

/** GET /v1/jobs: the caller's jobs, newest first; `?status=` keeps one status. */
export const listJobsRoute = (deps: { jobs: Pick<JobStore, 'list'> }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/jobs',
    query: ListJobsQuerySchema,
    docs: {
      operationId: 'listJobs',
      summary: "The caller's jobs, newest first",
      description:
        'Pages of `limit` (1-100, default 20); `nextCursor` continues. With `status`, only jobs of that status (a page may then hold fewer than `limit`, with a cursor).',
      responses: {
        200: {
          description: 'A page of jobs.',
          json: () => z.object({ jobs: z.array(jobViewSchema()), nextCursor: nextCursorSchema() }),
        },
      },
    },
    handle: async ({ query, principal }) => {
      const page = await deps.jobs.list(principal.userId, {
        limit: query.limit,
        ...(query.cursor && { cursor: query.cursor }),
        ...(query.status && { status: query.status }),
      });
      return json(200, {
        jobs: page.items.map(jobView),
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      });
    },
  });
