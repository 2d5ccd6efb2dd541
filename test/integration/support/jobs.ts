import { json } from './sse.js';
import type { TestStack } from './test-stack.js';

/** Every status a job ends in. */
export const JOB_ENDS = ['succeeded', 'failed', 'dead_lettered', 'cancelled'];

/**
 * Reads the job (`GET /v1/jobs/{id}` as `userId`) every 200 ms until its status is one of
 * `statuses` and `also` holds; throws with the last reading once `timeoutMs` has passed.
 */
export async function waitForJob(
  stack: TestStack,
  userId: string,
  jobId: string,
  {
    statuses = JOB_ENDS,
    timeoutMs = 45_000,
    also = () => true,
  }: {
    statuses?: readonly string[];
    timeoutMs?: number;
    also?: (job: { attempts: number }) => boolean;
  } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await stack.request(userId, 'GET', `/v1/jobs/${jobId}`);
    const job = response.status === 200 ? await json(response) : undefined;
    if (job && statuses.includes(job.status) && also(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
