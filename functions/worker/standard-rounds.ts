import type { JobRun, Round, RunRound } from './job-run.js';
import type { MeteredComplete } from './metered-model.js';

/**
 * Rounds made now, with bounded concurrency. In a round of several calls (a long
 * document's parts) each answer is checkpointed as it comes, so a retry (after a
 * deadline, a throttled call) continues where this attempt stopped; a single call is not.
 */
export function createStandardRounds(deps: {
  complete: MeteredComplete;
  limits: { summaryConcurrency: number; modelTimeoutMs: number };
}): RunRound {
  const { complete, limits } = deps;
  return async ({ round, calls }: Round, run: JobRun) => {
    let done = calls.filter((call) => run.checkpoints.has(call.key)).length;
    return mapWithConcurrency(calls, limits.summaryConcurrency, async (call) => {
      const kept = run.checkpoints.get(call.key);
      if (kept !== undefined) return kept;
      const answer = await complete(
        run,
        { ...call.request, timeoutMs: limits.modelTimeoutMs },
        run.meter,
        run.deadline,
      );
      if (calls.length > 1) {
        done += 1;
        await run.checkpoint(call.key, answer.text, {
          round,
          partsDone: done,
          partsTotal: calls.length,
        });
      }
      return answer.text;
    });
  };
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // Once a part has failed the job has failed: no further part is started (and spent on).
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  // Every worker is awaited (not only the first to fail), so no call runs on unobserved.
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, items.length) }, worker),
  );
  const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  return results;
}
