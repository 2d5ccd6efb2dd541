import { JOB_ENDS } from '../jobs.js';
import type { TestStack } from '../test-stack.js';
import { scanAll } from './table-scan.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (a minute at most) for every job to end, the worker's compactions too, then runs
 * maintenance once more.
 */
export async function quiesce(stack: TestStack): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const jobs = await scanAll(stack, (i) => typeof i.sk === 'string' && i.sk === 'JOB');
    if (jobs.every((j) => JOB_ENDS.includes(String(j.status))) || Date.now() > deadline) break;
    await sleep(500);
  }
  await sleep(1_000);
  await stack.sweep();
}
