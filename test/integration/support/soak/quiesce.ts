import { JOB_ENDS } from '../jobs.js';
import type { TestStack } from '../test-stack.js';
import { type Item, scanAll } from './table-scan.js';

/**
 * A job refused for what calls in flight held tries again five minutes later, by design
 * (functions/worker/job-errors.ts): longer than the soak waits. Quiesced, nothing holds its
 * budget any more, and its next attempt would run.
 */
export const waitsForHeldBudget = (job: Item) =>
  job.status === 'queued' && (job.error as { type?: string } | undefined)?.type === 'billing_error';

/** Ended, or waiting for its budget: nothing more happens to it while the soak waits. */
export const settledJob = (job: Item) =>
  JOB_ENDS.includes(String(job.status)) || waitsForHeldBudget(job);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (a minute at most) for every job to end (or wait for its budget), the worker's
 * compactions too, then runs maintenance once more.
 */
export async function quiesce(stack: TestStack): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const jobs = await scanAll(stack, (i) => typeof i.sk === 'string' && i.sk === 'JOB');
    if (jobs.every(settledJob) || Date.now() > deadline) break;
    await sleep(500);
  }
  await sleep(1_000);
  await stack.sweep();
}
