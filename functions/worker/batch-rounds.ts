import type { Clock } from '../../shared/domain/clock.js';
import { ModelError } from '../../shared/domain/errors.js';
import type { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { maxTokensOf, truncateUtf8 } from '../../shared/domain/tokens.js';
import { addUsage, type TokenUsage, ZERO_USAGE } from '../../shared/domain/usage.js';
import type { JobStore, PendingBatch } from '../../shared/ports/job-store.js';
import type { ModelBatches } from '../../shared/ports/model-batches.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { BudgetReserver } from '../../shared/usage/budget-reserver.js';
import { answerEndOf } from './answer-ends.js';
import { MAX_JOB_ANSWER_BYTES } from './answer-size.js';
import { JobCancelledError, JobDeferredError } from './job-errors.js';
import type { JobKeyGrant } from './job-key.js';
import type { JobObserver } from './job-observer.js';
import type { JobRun, ModelCall, Round, RunRound } from './job-run.js';
import { jobCallRequestId, type RecordJobCall } from './job-usage.js';

/** Batches end within 24 hours; their reservation is held a little longer. */
const BATCH_RESERVATION_MS = 25 * 3600_000;

/**
 * Rounds made through the Message Batches API, at half the token price. A round's calls
 * without a checkpoint are submitted as one batch, whose worst case (at the list price:
 * the reserver knows no other) is reserved for as long as a batch can take; the job then
 * waits for it without a function waiting (JobDeferredError: its message comes back
 * later). Once the batch has ended, its answers are checkpointed, the reservation settled
 * at the batch price (all it generated: an answer is cut to MAX_JOB_ANSWER_BYTES only
 * when kept), and the job goes on to its next round (another batch) or its end. A job its
 * user asked to cancel sends its batch's cancel upstream at its next look (once), bills what
 * the batch processed before it ended, and submits no other; nor does one whose cancel
 * landed before its first batch was submitted.
 * @throws JobDeferredError while the batch runs
 * @throws JobCancelledError once a cancelled job's batch has ended, or before a batch is submitted
 */
export function createBatchRounds(deps: {
  batches: ModelBatches;
  jobs: Pick<JobStore, 'cancelRequested'>;
  budget: BudgetReserver;
  keyGrant: JobKeyGrant;
  ledger: Pick<UsageLedger, 'settle' | 'release' | 'billIfAbandoned'>;
  prices: PriceTable;
  clock: Clock;
  observer: JobObserver;
  recordCall: RecordJobCall;
  limits: { batchPollSeconds: number };
}): RunRound {
  const { batches, ledger, prices, clock, observer, recordCall, limits } = deps;
  const wait = () => new JobDeferredError(limits.batchPollSeconds);

  async function collect({ round, calls }: Round, run: JobRun, model: string): Promise<void> {
    const pending = run.pendingBatch!;
    const state = await batches.check(pending.batchId, { signal: run.deadline.signal });
    if (state.state === 'in_progress') {
      if (run.cancel.aborted && !pending.cancelSent) await cancelUpstream(run, pending);
      throw wait();
    }
    let usage: TokenUsage = ZERO_USAGE;
    let costNanoUsd = 0;
    for (const result of state.results) {
      if (result.kind !== 'succeeded') continue;
      usage = addUsage(usage, result.answer.usage);
      // Each request on its own: a price by prompt length is per request, not per batch.
      costNanoUsd += prices.costNanoUsd(model, result.answer.usage, 'batch');
    }
    const counted = await ledger.settle(pending.reservation, { usage, costNanoUsd });
    // What the ledger counted: a sweep that settled it to the figures its entry kept (an
    // earlier settle having failed) published those itself.
    if (await run.countBatch({ usage, costNanoUsd })) {
      observer.modelCall(counted.usage, counted.costNanoUsd);
    }
    // One record for the whole batch, as it was reserved and settled.
    await recordCall({
      jobId: run.jobId,
      userId: run.userId,
      // The key it was held on when submitted, revoked since or not: the batch was spent.
      ...(pending.reservation.keyId && { keyId: pending.reservation.keyId }),
      model,
      usage,
      costNanoUsd,
      startedAtMs: Date.parse(pending.submittedAt),
      reservationId: pending.reservation.id,
    });
    let done = calls.filter((call) => run.checkpoints.has(call.key)).length;
    for (const result of state.results) {
      if (result.kind !== 'succeeded' || run.checkpoints.has(result.customId)) continue;
      done += 1;
      const text = truncateUtf8(result.answer.text, MAX_JOB_ANSWER_BYTES);
      // A batch answers whole: one longer than an item stores is cut as a streamed one is.
      const end = answerEndOf(result.answer.stopReason, text !== result.answer.text);
      await run.checkpoint(
        result.customId,
        { text, ...(end && { end }) },
        {
          round,
          partsDone: Math.min(done, calls.length),
          partsTotal: calls.length,
        },
      );
    }
    await run.setPendingBatch(undefined);
    // What its batch processed is kept, as a job cancelled between retries keeps it.
    if (run.cancel.aborted) throw cancelled(run);
    const failed = state.results.find((result) => result.kind !== 'succeeded');
    if (failed?.kind === 'errored') throw failed.error;
    if (failed)
      throw new ModelError('timeout', 'the batch expired before it processed every request');
  }

  /** Sends the batch's cancel; one that fails is sent again at the next look. */
  async function cancelUpstream(run: JobRun, pending: PendingBatch): Promise<void> {
    try {
      await batches.cancel(pending.batchId, { signal: run.deadline.signal });
    } catch (error) {
      observer.batchNotCancelled({
        jobId: run.jobId,
        userId: run.userId,
        batchId: pending.batchId,
        error,
      });
      return;
    }
    await run.setPendingBatch({ ...pending, cancelSent: true });
  }

  async function submit(missing: ModelCall[], run: JobRun, model: string): Promise<never> {
    const apiKey = await deps.keyGrant(run);
    const now = clock();
    const reservation = await deps.budget.reserve({
      userId: run.userId,
      ...(apiKey && { apiKey }),
      model,
      promptMaxTokens: missing.reduce(
        (sum, call) =>
          sum +
          maxTokensOf([
            ...call.request.system.map((b) => b.text),
            ...call.request.messages.flatMap((m) => m.blocks.map((b) => b.text)),
          ]),
        0,
      ),
      maxOutputTokens: missing.reduce((sum, call) => sum + call.request.maxTokens, 0),
      nowMs: now,
      expiresAtMs: now + BATCH_RESERVATION_MS,
    });
    let batchId: string;
    try {
      ({ batchId } = await batches.submit(
        missing.map((call) => ({ customId: call.key, request: call.request })),
        { signal: run.deadline.signal },
      ));
    } catch (error) {
      await ledger.release(reservation);
      throw error;
    }
    await Promise.all([
      run.setPendingBatch({ batchId, submittedAt: new Date(now).toISOString(), reservation }),
      // Submitted, it runs and is billed whether or not a delivery ever collects it.
      ledger.billIfAbandoned(reservation, {
        api: 'jobs',
        model,
        requestId: jobCallRequestId(run.jobId, reservation.id),
        startedAtMs: now,
      }),
    ]);
    throw wait();
  }

  const cancelled = (run: JobRun) => new JobCancelledError(`job ${run.jobId} was cancelled`);

  /**
   * A batch job's delivery sees the cancel its job held at its start only: one landing while
   * it read and split its document is read once more here, before a batch is paid for.
   */
  const cancelAsked = async (run: JobRun) =>
    run.cancel.aborted || (await deps.jobs.cancelRequested(run.userId, run.jobId));

  return async (round, run) => {
    const model = round.calls[0]?.request.model ?? '';
    const missing = () => round.calls.filter((call) => !run.checkpoints.has(call.key));
    if (missing().length > 0 && run.pendingBatch) await collect(round, run, model);
    const left = missing();
    if (left.length > 0 && (await cancelAsked(run))) throw cancelled(run);
    if (left.length > 0) await submit(left, run, model);
    // Every answer of a batch round is a kept one, collected now or by an earlier delivery.
    return round.calls.map((call) => {
      const kept = run.checkpoints.get(call.key);
      run.ends.note(kept?.end);
      return kept?.text ?? '';
    });
  };
}
