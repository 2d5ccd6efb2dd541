import { BudgetExceededError } from '../../shared/domain/errors.js';
import type { ModelAnswer } from '../../shared/ports/model.js';
import { answerEndOf } from './answer-ends.js';
import type { JobRun, ModelCall, Round, RunRound } from './job-run.js';
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
  return async ({ round, calls, signal }: Round, run: JobRun) => {
    let done = calls.filter((call) => run.checkpoints.has(call.key)).length;
    const ask = roundCalls(
      complete,
      limits,
      run,
      signal ? AbortSignal.any([signal, run.cancel]) : run.cancel,
    );
    return mapWithConcurrency(calls, limits.summaryConcurrency, async (call) => {
      const kept = run.checkpoints.get(call.key);
      if (kept !== undefined) {
        run.ends.note(kept.end);
        return kept.text;
      }
      const answer = await ask(call);
      const end = answerEndOf(answer.stopReason);
      run.ends.note(end);
      if (calls.length > 1) {
        done += 1;
        await run.checkpoint(
          call.key,
          { text: answer.text, ...(end && { end }) },
          {
            round,
            partsDone: done,
            partsTotal: calls.length,
          },
        );
      }
      return answer.text;
    });
  };
}

/**
 * Makes the calls of one round. A call refused for what calls in flight hold, some of them
 * this round's own, asks again once one of those has ended (giving back what it did not
 * spend): failing the attempt instead would hold the job back minutes (and use up its
 * deliveries) for budget it holds itself. Once a call of the round failed, none asks again.
 */
function roundCalls(
  complete: MeteredComplete,
  limits: { modelTimeoutMs: number },
  run: JobRun,
  signal: AbortSignal,
): (call: ModelCall) => Promise<ModelAnswer> {
  const calling = new Set<Promise<ModelAnswer>>();
  /** Calls of the round that ended holding budget till then: answered, or failed after it. */
  let released = 0;
  let failure: { error: unknown } | undefined;
  // Read through functions: TypeScript would keep them narrowed across the waits.
  const releasedNow = () => released;
  const failed = () => failure;
  return async (call) => {
    for (;;) {
      const releasedBefore = released;
      const answer = complete(
        run,
        { ...call.request, timeoutMs: limits.modelTimeoutMs, signal },
        run.meter,
        run.deadline,
      );
      calling.add(answer);
      try {
        const answered = await answer;
        released += 1;
        return answered;
      } catch (error) {
        const refused = error instanceof BudgetExceededError && error.heldByCallsInFlight;
        // A call that failed once made gave back its hold; a refused one held nothing.
        if (!refused) released += 1;
        calling.delete(answer);
        // A refusal takes a while to come back: a sibling may have ended meanwhile.
        while (refused && !failed() && releasedNow() === releasedBefore && calling.size > 0) {
          await Promise.race([...calling].map((other) => other.catch(() => undefined)));
        }
        const roundFailure = failed();
        if (roundFailure || !refused || releasedNow() === releasedBefore) {
          failure ??= { error };
          throw roundFailure ? roundFailure.error : error;
        }
      } finally {
        calling.delete(answer);
      }
    }
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
