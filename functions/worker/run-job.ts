import type { Clock } from '../../shared/domain/clock.js';
import { addUsage } from '../../shared/domain/usage.js';
import { eventNamed, jobEndedEvent } from '../../shared/events/producer-events.js';
import type { JobMessage } from '../../shared/jobs/job-message.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { Job, JobStore, KeptAnswer, PendingBatch } from '../../shared/ports/job-store.js';
import { AnswerEnds } from './answer-ends.js';
import type { CompactConversation } from './compact-conversation.js';
import { createCancelEnding } from './end-cancelled.js';
import { type JobDeadline, NO_DEADLINE } from './job-deadline.js';
import { JobCancelledError, JobDeferredError, PermanentJobError } from './job-errors.js';
import { budgetCheckAfter, type JobObserver } from './job-observer.js';
import type { JobRun, RunRound } from './job-run.js';
import { JobMeter } from './metered-model.js';
import type { SummarizeDocument } from './summarize-document.js';
import { type Watch, watch } from './watch.js';

/** How often a job under way looks whether its user asked to cancel it. */
const CANCEL_POLL_MS = 1_000;

export type IdentifiedJob = JobMessage & { jobId: string };

/** What one attempt has beyond the job itself. */
export interface JobAttempt {
  deadline: JobDeadline;
  /** The job's record as this delivery found it; read (or created) when absent. */
  record?: Job;
  /** The job was asked for again after it failed or was cancelled: parts Claude refused are asked anew. */
  askedAgain?: boolean;
}

/**
 * Does one job and records its outcome (and publishes its end); failures are thrown for
 * the caller to classify, after the attempt's spend is recorded on the job. Resolves with
 * nothing: the idempotency record keeps what it resolves with, and a conversation's summary
 * may outlive its conversation nowhere.
 * A job whose user asked to cancel it stops: its calls under way are cut (paid for what they
 * generated), a batch's cancel is sent upstream and its end awaited; the job then ends
 * `cancelled` with what it spent, published once.
 * @throws JobCancelledError when the job was cancelled: before it could start, or as it ran
 */
export type RunJob = (job: IdentifiedJob, attempt?: JobAttempt) => Promise<void>;

export function createJobRunner(deps: {
  jobs: Pick<
    JobStore,
    | 'create'
    | 'markRunning'
    | 'markSucceeded'
    | 'markCancelled'
    | 'cancelRequested'
    | 'recordSpend'
    | 'saveCheckpoint'
    | 'checkpoints'
    | 'forgetCheckpoints'
    | 'setBatch'
    | 'countBatch'
  >;
  summarizeDocument: SummarizeDocument;
  compactConversation: CompactConversation;
  /** How a round of calls is made: now, or (for `priority: batch` jobs) as a batch. */
  rounds: { standard: RunRound; batch: RunRound };
  events: EventPublisher;
  /** After the job's spend: budget thresholds. Never fails the job. */
  afterSpend: (userId: string) => Promise<void>;
  clock: Clock;
  observer: JobObserver;
  /** @default CANCEL_POLL_MS */
  cancelPollMs?: number;
}): RunJob {
  const { jobs, clock, observer, cancelPollMs = CANCEL_POLL_MS } = deps;
  const nowIso = () => new Date(clock()).toISOString();
  const endCancelled = createCancelEnding(deps);
  return async (job, attempt = { deadline: NO_DEADLINE }) => {
    const startedAt = clock();
    const record =
      attempt.record ??
      (await jobs.create({ jobId: job.jobId, userId: job.userId, type: job.type }, nowIso()));
    // A job waiting for its batch is not started again: this delivery only looks at it;
    // unless the job was dead-lettered meanwhile, and this is its redrive.
    const starts = !record.batch || record.status === 'dead_lettered';
    if (starts && !(await jobs.markRunning(job.userId, job.jobId, nowIso()))) {
      // Cancelled; or asked to be while no attempt ran (the one it asked died): it ends now.
      await endCancelled(job, undefined);
      throw new JobCancelledError(`job ${job.jobId} was cancelled`);
    }
    const cancel = watchForCancel(job, record);
    const run = await startRun(record, job, attempt, cancel.signal).catch(async (error) => {
      await cancel.stop();
      throw error;
    });
    try {
      let summary: string;
      try {
        summary =
          job.type === 'summarize.document'
            ? await deps.summarizeDocument(job, run)
            : await deps.compactConversation(job, run);
      } finally {
        await cancel.stop();
      }
      // What a refusal said is a fragment, not a summary (a compaction stops before saving it).
      if (run.ends.refused) {
        throw new PermanentJobError(
          'refusal',
          'Claude refused to summarize this document; what it said is not a summary',
          false,
        );
      }
      const truncated = run.ends.lastRoundCut;
      // No summary is no success, whatever it cost: the models that think unasked spend
      // max_tokens thinking first, and one that ran out of them had written nothing.
      if (!/\S/.test(summary)) {
        throw new PermanentJobError(
          'api_error',
          truncated
            ? 'Claude reached its max_tokens (summaryMaxTokens) before it wrote any of the summary: a model that thinks before it answers spends them thinking first; raise summaryMaxTokens'
            : 'Claude wrote an empty summary',
          false,
        );
      }
      const spent = { usage: run.meter.usage, costNanoUsd: run.meter.costNanoUsd };
      // A conversation's summary is kept by the conversation alone, and goes when it is
      // deleted: its job keeps neither it nor the parts said along the way.
      const keepsSummary = job.type === 'summarize.document';
      // Its cancel, answered 202, landed as it finished: it ends cancelled, as its user was told;
      // but for a compaction, whose summary its conversation already uses.
      const succeeded = await jobs.markSucceeded(
        job.userId,
        job.jobId,
        { ...(keepsSummary ? { summary, truncated } : { done: true }), ...spent },
        nowIso(),
      );
      if (!succeeded) throw new JobCancelledError(`job ${job.jobId} was cancelled as it ended`);
      if (!keepsSummary) {
        await jobs
          .forgetCheckpoints(job.userId, job.jobId)
          .catch((error: unknown) => observer.checkpointsNotForgotten(error));
      }
      observer.succeeded({
        jobId: job.jobId,
        userId: job.userId,
        type: job.type,
        ...spent,
        durationMs: clock() - startedAt,
      });
      await publish(
        jobEndedEvent(record, { status: 'succeeded', summary, truncated, ...spent }, nowIso()),
      );
      await deps
        .afterSpend(job.userId)
        .catch((error: unknown) => observer.notPublished(error, budgetCheckAfter(job)));
    } catch (error) {
      const spent = { usage: run.meter.usage, costNanoUsd: run.meter.costNanoUsd };
      const recordSpend = async () => {
        if (spent.costNanoUsd === (record.costNanoUsd ?? 0)) return;
        await jobs.recordSpend(job.userId, job.jobId, spent, nowIso()).catch(() => {});
      };
      // A job waiting for its batch, cancelled upstream or not, ends once it has collected it
      // (the batch rounds then say so): ended before, the batch would run on unbilled.
      const cancelled =
        error instanceof JobCancelledError ||
        (cancel.signal.aborted && !run.pendingBatch && !(error instanceof JobDeferredError));
      if (cancelled) {
        // Not ended (the write failed), the job is retried, and its retry ends it: from this spend.
        await endCancelled(job, spent).catch(async (endError: unknown) => {
          await recordSpend();
          throw endError;
        });
        throw error instanceof JobCancelledError
          ? error
          : new JobCancelledError(`job ${job.jobId} was cancelled`, { cause: error });
      }
      await recordSpend();
      throw error;
    }
  };

  /**
   * The job's cancel, as its user asks it. A job made now watches its item while it runs; a
   * batch job's delivery is a short look at its batch, which the cancel found at its start
   * (asked later, the next delivery finds it).
   */
  function watchForCancel(job: IdentifiedJob, record: Job): Watch {
    const batch = job.type === 'summarize.document' && job.priority === 'batch';
    if (!batch) {
      return watch(
        () => jobs.cancelRequested(job.userId, job.jobId),
        cancelPollMs,
        new JobCancelledError(`job ${job.jobId} was cancelled by its user`),
      );
    }
    const controller = new AbortController();
    if (record.cancelRequestedAt)
      controller.abort(new JobCancelledError(`job ${job.jobId} was cancelled by its user`));
    return { signal: controller.signal, stop: async () => {} };
  }

  async function publish(event: Parameters<EventPublisher['publish']>[0]) {
    await deps.events
      .publish(event)
      .catch((error: unknown) => observer.notPublished(error, eventNamed(event)));
  }

  async function startRun(
    record: Job,
    job: IdentifiedJob,
    { deadline, askedAgain }: JobAttempt,
    cancel: AbortSignal,
  ): Promise<JobRun> {
    const { userId, jobId } = job;
    // Only a job that ran before can have checkpoints: a first attempt skips the query.
    const checkpoints =
      record.attempts > 0 || record.batch
        ? await jobs.checkpoints(userId, jobId)
        : new Map<string, KeptAnswer>();
    // Asked for again after it failed, a job asks Claude again what it refused: kept, the
    // refusal would fail every run again without a call. Forgotten in the table too, so that
    // a retry of this attempt (which is no longer asked again) asks it as well.
    if (askedAgain) {
      const refused = [...checkpoints].filter(([, answer]) => answer.end === 'refused');
      for (const [key] of refused) checkpoints.delete(key);
      if (refused.length > 0) {
        await jobs.forgetCheckpoints(
          userId,
          jobId,
          refused.map(([key]) => key),
        );
      }
    }
    const meter = new JobMeter(record);
    let saved: Promise<unknown> = Promise.resolve();
    let pendingBatch: PendingBatch | undefined = record.batch;
    const ends = new AnswerEnds();
    const priority = job.type === 'summarize.document' ? job.priority : undefined;
    const rounds = priority === 'batch' ? deps.rounds.batch : deps.rounds.standard;
    const apiKeyId = job.type === 'summarize.document' ? job.apiKeyId : undefined;
    const run: JobRun = {
      userId,
      jobId,
      ...(apiKeyId && { apiKeyId }),
      meter,
      deadline,
      cancel,
      checkpoints,
      get pendingBatch() {
        return pendingBatch;
      },
      get usage() {
        return meter.usage;
      },
      get costNanoUsd() {
        return meter.costNanoUsd;
      },
      ends,
      round: (round) => {
        ends.newRound();
        return rounds(round, run);
      },
      async checkpoint(key, answer, progress) {
        checkpoints.set(key, answer);
        // One at a time, in the order the parts finished: concurrent parts' writes could
        // otherwise land out of order, and the job's progress, usage and cost go back.
        const saving = saved.then(() =>
          jobs.saveCheckpoint(
            userId,
            jobId,
            { key, ...answer },
            { progress, usage: meter.usage, costNanoUsd: meter.costNanoUsd },
            nowIso(),
          ),
        );
        saved = saving.catch(() => undefined);
        await saving;
        await publish({
          version: 1,
          type: 'job.progress',
          at: nowIso(),
          jobId,
          userId,
          progress,
        });
      },
      async setPendingBatch(batch) {
        pendingBatch = batch;
        await jobs.setBatch(userId, jobId, batch, nowIso());
      },
      async countBatch(spent) {
        if (!pendingBatch || pendingBatch.counted) return false;
        const counted = await jobs.countBatch(
          userId,
          jobId,
          pendingBatch.batchId,
          {
            usage: addUsage(meter.usage, spent.usage),
            costNanoUsd: meter.costNanoUsd + spent.costNanoUsd,
          },
          nowIso(),
        );
        if (!counted) return false;
        pendingBatch = { ...pendingBatch, counted: true };
        meter.add(spent.usage, spent.costNanoUsd);
        return true;
      },
    };
    return run;
  }
}
