import { setTimeout as sleep } from 'node:timers/promises';
import { CappedText } from '../../shared/domain/capped-text.js';
import type { Clock } from '../../shared/domain/clock.js';
import { ModelError } from '../../shared/domain/errors.js';
import type { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { countedBy } from '../../shared/domain/settlement.js';
import { ThinkingTime } from '../../shared/domain/thinking-time.js';
import {
  estimateOutputTokens,
  generatableTokens,
  maxTokensOf,
} from '../../shared/domain/tokens.js';
import { addUsage, type TokenUsage, ZERO_USAGE } from '../../shared/domain/usage.js';
import type { Model, ModelAnswer, ModelRequest } from '../../shared/ports/model.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { BudgetReserver } from '../../shared/usage/budget-reserver.js';
import { MAX_JOB_ANSWER_BYTES } from './answer-size.js';
import { type JobDeadline, NO_DEADLINE } from './job-deadline.js';
import type { JobKeyGrant } from './job-key.js';
import type { JobObserver } from './job-observer.js';
import { jobCallRequestId, type RecordJobCall } from './job-usage.js';

/** Usage and exact cost of every call a job made, across its attempts. */
export class JobMeter {
  usage: TokenUsage;
  costNanoUsd: number;

  /** @param spent what earlier attempts spent (the job record's usage and cost) */
  constructor(spent: { usage?: TokenUsage; costNanoUsd?: number } = {}) {
    this.usage = spent.usage ?? ZERO_USAGE;
    this.costNanoUsd = spent.costNanoUsd ?? 0;
  }

  add(usage: TokenUsage, costNanoUsd: number): void {
    this.usage = addUsage(this.usage, usage);
    this.costNanoUsd += costNanoUsd;
  }
}

/** A reservation outlives its invocation by this much before the sweep may reclaim it. */
const RESERVATION_GRACE_MS = 60_000;
/** Without a deadline (tests, tools), a reservation is held at most this long. */
const RESERVATION_LEASE_MS = 15 * 60_000;
/** A retry is only worth its wait if at least this much time is left for the call itself. */
const MIN_CALL_MS = 2_000;

export interface RetryLimits {
  /** Calls made again after a retryable failure before the answer starts. */
  modelMaxRetries: number;
  /** Longest retry-after waited; a longer one is passed on (the job retries after it). */
  maxRetryWaitMs: number;
}

/**
 * One model call of a job, budgeted exactly like a chat turn: the worst case is
 * reserved first, the actual cost settled after. The answer is streamed, so a call cut
 * off (its deadline, a broken stream) settles what it spent: the input Claude reported
 * and an output estimate that errs high. An answer that reaches what one item can store
 * (MAX_JOB_ANSWER_BYTES) ends there, as `max_tokens`: its stream is closed, so generation
 * stops, and it settles as a cut call does, for what was streamed (the part of the last
 * piece left out included). A call refused before it started releases its
 * reservation at once and is retried while its `retry-after` (or back-off) fits both
 * `maxRetryWaitMs` and the deadline; otherwise its error, with the retry-after, is thrown.
 * @throws BudgetExceededError before the call when it does not fit (the job's API key's
 *   own budget included, read as the call is made)
 * @throws PermanentJobError before the call when the job's API key was revoked or expired
 * @throws ModelError (kind `timeout` once the deadline aborted it)
 */
export type MeteredComplete = (
  job: MeteredJob,
  request: ModelRequest,
  meter: JobMeter,
  deadline?: JobDeadline,
) => Promise<ModelAnswer>;

/** Whose call it is: the job's user, and the API key it was asked for with, if any. */
export interface MeteredJob {
  userId: string;
  jobId: string;
  apiKeyId?: string;
}

export function createMeteredModel(deps: {
  model: Model;
  budget: BudgetReserver;
  keyGrant: JobKeyGrant;
  ledger: Pick<UsageLedger, 'settle' | 'release' | 'billIfAbandoned'>;
  prices: PriceTable;
  clock: Clock;
  observer: JobObserver;
  recordCall: RecordJobCall;
  limits: RetryLimits;
}): MeteredComplete {
  const { model, budget, keyGrant, ledger, prices, clock, observer, recordCall, limits } = deps;
  const texts = (request: ModelRequest) => [
    ...request.system.map((block) => block.text),
    ...request.messages.flatMap((message) => message.blocks.map((block) => block.text)),
  ];

  const settle = async (
    call: { job: MeteredJob; request: ModelRequest; startedAtMs: number },
    reservation: Awaited<ReturnType<BudgetReserver['reserve']>>,
    answer: { usage: TokenUsage; stopReason?: string },
    meter: JobMeter,
  ) => {
    const { usage } = answer;
    // Priced as the model asked for: a proxy upstream may name it differently.
    const costNanoUsd = prices.costNanoUsd(call.request.model, usage);
    // The answer is paid for: failing the job here would have its retry pay for it again.
    const [settled] = await Promise.allSettled([
      ledger.settle(reservation, { usage, costNanoUsd }),
    ]);
    if (settled.status === 'rejected') {
      observer.settlementFailed({
        reservationId: reservation.id,
        jobId: call.job.jobId,
        userId: call.job.userId,
        error: settled.reason,
      });
    }
    meter.add(usage, costNanoUsd);
    // What the ledger counted: a failed settle's rest is published by the sweep that settles it.
    const counted = countedBy(settled);
    observer.modelCall(counted.usage, counted.costNanoUsd);
    if (costNanoUsd > reservation.amountNanoUsd) {
      const overrunNanoUsd = costNanoUsd - reservation.amountNanoUsd;
      observer.budgetOverrun({
        overrunNanoUsd,
        jobId: call.job.jobId,
        userId: call.job.userId,
        ...(reservation.keyId && { apiKeyId: reservation.keyId }),
        reservationId: reservation.id,
      });
    }
    await recordCall({
      jobId: call.job.jobId,
      userId: call.job.userId,
      ...(reservation.keyId && { keyId: reservation.keyId }),
      model: call.request.model,
      usage,
      costNanoUsd,
      startedAtMs: call.startedAtMs,
      ...(answer.stopReason && { stopReason: answer.stopReason }),
      reservationId: reservation.id,
    });
  };

  return async (job, request, meter, deadline = NO_DEADLINE) => {
    const { userId } = job;
    const signal = request.signal
      ? AbortSignal.any([request.signal, deadline.signal])
      : deadline.signal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new ModelError('timeout', 'the job ran out of time');
      const apiKey = await keyGrant(job);
      const now = clock();
      const reservation = await budget.reserve({
        userId,
        ...(apiKey && { apiKey }),
        model: request.model,
        promptMaxTokens: maxTokensOf(texts(request)),
        maxOutputTokens: request.maxTokens,
        nowMs: now,
        expiresAtMs: Number.isFinite(deadline.invocationEndsAtMs)
          ? deadline.invocationEndsAtMs + RESERVATION_GRACE_MS
          : now + RESERVATION_LEASE_MS,
      });
      let stream: Awaited<ReturnType<Model['openStream']>>;
      try {
        // The SDK does not retry: this loop does, within the deadline.
        stream = await model.openStream({ ...request, signal, maxRetries: 0 });
      } catch (error) {
        await ledger.release(reservation);
        const waitMs = retryWaitMs(error, attempt, limits, deadline);
        if (waitMs === undefined) throw error;
        await sleep(waitMs, undefined, { signal }).catch(() => {});
        continue;
      }
      // Accepted: Claude bills it from here on, whether or not this function lives to settle it.
      void ledger.billIfAbandoned(reservation, {
        api: 'jobs',
        model: request.model,
        requestId: jobCallRequestId(job.jobId, reservation.id),
        startedAtMs: now,
      });
      const call = { job, request, startedAtMs: now };
      const kept = new CappedText(MAX_JOB_ANSWER_BYTES);
      let usage = stream.initialUsage;
      let stopReason: ModelAnswer['stopReason'] = 'end_turn';
      const thinking = new ThinkingTime(clock);
      // Cut off (by a broken stream, or by us at the cap): Claude bills the input and what it
      // generated, shown or thought unseen, so settle that (erring high, but never past
      // max_tokens, all it bills).
      const spentOn = (streamed: string) => {
        const estimate = Math.min(
          request.maxTokens,
          estimateOutputTokens(streamed) + generatableTokens(thinking.ms),
        );
        return { ...usage, outputTokens: Math.max(usage.outputTokens, estimate) };
      };
      try {
        for await (const event of stream) {
          thinking.observe(event);
          if (event.type === 'text') {
            const text = kept.append(event.text);
            if (kept.full) {
              // Leaving the loop closes the upstream stream: generation stops.
              usage = spentOn(kept.text + event.text.slice(text.length));
              stopReason = 'max_tokens';
              break;
            }
          } else if (event.type === 'usage') usage = event.usage;
          else if (event.type === 'stop') stopReason = event.stopReason;
        }
      } catch (error) {
        // Read before settling: a deadline passing meanwhile did not cut this stream.
        const outOfTime = deadline.signal.aborted;
        await settle(call, reservation, { usage: spentOn(kept.text) }, meter);
        // The deadline's abort reaches the stream as a broken connection: it ran out of time.
        throw outOfTime
          ? new ModelError('timeout', 'the job ran out of time', { cause: error })
          : error;
      }
      await settle(call, reservation, { usage, stopReason }, meter);
      return { model: stream.model, text: kept.text, stopReason, usage };
    }
  };
}

/** How long to wait before trying again, or undefined to give up now (and pass the error on). */
function retryWaitMs(
  error: unknown,
  attempt: number,
  limits: RetryLimits,
  deadline: JobDeadline,
): number | undefined {
  if (!(error instanceof ModelError) || !error.retryable) return undefined;
  if (attempt >= limits.modelMaxRetries) return undefined;
  const waitMs =
    error.retryAfterSeconds !== undefined
      ? error.retryAfterSeconds * 1000
      : Math.min(8_000, 500 * 2 ** attempt);
  if (waitMs > limits.maxRetryWaitMs) return undefined;
  if (waitMs + MIN_CALL_MS > deadline.remainingMs()) return undefined;
  return waitMs;
}
