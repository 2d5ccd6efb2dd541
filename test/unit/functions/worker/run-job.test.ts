import { describe, expect, it } from 'vitest';
import type { CompactConversation } from '../../../../functions/worker/compact-conversation.js';
import type { JobRun, RunRound } from '../../../../functions/worker/job-run.js';
import { createJobRunner, type IdentifiedJob } from '../../../../functions/worker/run-job.js';
import type { SummarizeDocument } from '../../../../functions/worker/summarize-document.js';
import { monthOf } from '../../../../shared/domain/budget.js';
import { ModelError } from '../../../../shared/domain/errors.js';
import type { Job } from '../../../../shared/ports/job-store.js';
import { InMemoryJobStore } from '../../../fakes/in-memory-job-store.js';
import { RecordingEventPublisher } from '../../../fakes/recording-event-publisher.js';
import {
  CONVERSATION_ID,
  createWorkerWorld,
  JOB_ID,
  ManualClock,
  RecordingJobObserver,
  USER_ID,
} from './support.js';

const documentJob: IdentifiedJob = {
  type: 'summarize.document',
  jobId: JOB_ID,
  userId: USER_ID,
  text: 'A short memo about Q3.',
};
const conversationJob: IdentifiedJob = {
  type: 'summarize.conversation',
  jobId: JOB_ID,
  userId: USER_ID,
  conversationId: CONVERSATION_ID,
};
const CALL_USAGE = {
  inputTokens: 120,
  outputTokens: 30,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/**
 * A job runner on the in-memory job store, whose use cases record what they were
 * given and what the job looked like while they ran, take `workMs` and charge one
 * call of CALL_USAGE at 5000 nano-dollars to the meter.
 */
function runnerWorld(
  options: {
    workMs?: number;
    fail?: Error;
    during?: (run: JobRun) => Promise<void>;
    budgetCheckFails?: Error;
  } = {},
) {
  const jobs = new InMemoryJobStore();
  const clock = new ManualClock();
  const observer = new RecordingJobObserver();
  const seen: Array<{ use: string; message: unknown; jobDuringWork: Job | undefined }> = [];
  const work =
    (use: string) =>
    async (message: { userId: string }, run: JobRun): Promise<string> => {
      seen.push({ use, message, jobDuringWork: await jobs.get(message.userId, JOB_ID) });
      clock.advance(options.workMs ?? 0);
      await options.during?.(run);
      if (options.fail) throw options.fail;
      run.meter.add(CALL_USAGE, 5_000);
      return `summary by ${use}`;
    };
  const events = new RecordingEventPublisher();
  const afterSpendOf: string[] = [];
  const noRounds: RunRound = async () => [];
  const runJob = createJobRunner({
    jobs,
    summarizeDocument: work('summarizeDocument') satisfies SummarizeDocument,
    compactConversation: work('compactConversation') satisfies CompactConversation,
    rounds: { standard: noRounds, batch: noRounds },
    events,
    afterSpend: async (userId) => {
      afterSpendOf.push(userId);
      if (options.budgetCheckFails) throw options.budgetCheckFails;
    },
    clock: clock.read,
    observer,
  });
  return { jobs, clock, observer, seen, runJob, events, afterSpendOf };
}

describe('createJobRunner', () => {
  it('creates the job and marks it running before the work starts', async () => {
    const { runJob, seen, clock } = runnerWorld();
    const startedAt = clock.iso();

    await runJob(documentJob);

    expect(seen[0]?.jobDuringWork).toMatchObject({
      jobId: JOB_ID,
      userId: USER_ID,
      type: 'summarize.document',
      status: 'running',
      attempts: 1,
      createdAt: startedAt,
    });
  });

  it('marks the job succeeded with its summary, usage and cost, and returns nothing the idempotency record would keep', async () => {
    const { runJob, jobs, clock } = runnerWorld({ workMs: 2_500 });

    const result = await runJob(documentJob);

    expect(result).toBeUndefined();
    expect(await jobs.get(USER_ID, JOB_ID)).toMatchObject({
      status: 'succeeded',
      result: { summary: 'summary by summarizeDocument' },
      usage: { inputTokens: 120, outputTokens: 30 },
      costNanoUsd: 5_000,
      updatedAt: clock.iso(),
    });
  });

  it('saves checkpoints in the order the parts finished, though their writes overlap', async () => {
    const world = runnerWorld({
      during: async (run) => {
        await Promise.all([
          run.checkpoint('part-1', { text: 'one' }, { round: 1, partsDone: 1, partsTotal: 2 }),
          run.checkpoint('part-2', { text: 'two' }, { round: 1, partsDone: 2, partsTotal: 2 }),
        ]);
      },
    });
    const save = world.jobs.saveCheckpoint.bind(world.jobs);
    let writes = 0;
    // The first part's write is slow: unordered, it would land last.
    world.jobs.saveCheckpoint = async (...args) => {
      if (writes++ === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      return save(...args);
    };

    await world.runJob(documentJob);

    expect((await world.jobs.get(USER_ID, JOB_ID))?.progress).toEqual({
      round: 1,
      partsDone: 2,
      partsTotal: 2,
    });
  });

  it('reports the success to the observer with the time the job took', async () => {
    const { runJob, observer } = runnerWorld({ workMs: 2_500 });

    await runJob(documentJob);

    expect(observer.successes).toEqual([
      {
        jobId: JOB_ID,
        userId: USER_ID,
        type: 'summarize.document',
        usage: expect.objectContaining(CALL_USAGE),
        costNanoUsd: 5_000,
        durationMs: 2_500,
      },
    ]);
  });

  it('reports an end event the topic did not take by its type, job, user and status, never its summary', async () => {
    const { runJob, observer, events } = runnerWorld();
    events.failing = true;

    await runJob(documentJob);

    expect(observer.notPublishedEvents).toEqual([
      { type: 'job.ended', jobId: JOB_ID, userId: USER_ID, status: 'succeeded' },
    ]);
  });

  it('reports a budget check after the spend that failed by the thresholds it left unannounced, its job and user', async () => {
    const throttled = new Error('throttled');
    const { runJob, observer, jobs } = runnerWorld({ budgetCheckFails: throttled });

    await runJob(documentJob);

    expect(observer.notPublishedErrors).toEqual([throttled]);
    expect(observer.notPublishedEvents).toEqual([
      { type: 'budget.threshold', jobId: JOB_ID, userId: USER_ID },
    ]);
    expect((await jobs.get(USER_ID, JOB_ID))?.status).toBe('succeeded');
  });

  it('sends a document job to the summarizer and a conversation job to the compactor', async () => {
    const documents = runnerWorld();
    const conversations = runnerWorld();

    await documents.runJob(documentJob);
    await conversations.runJob(conversationJob);

    expect(documents.seen.map((s) => s.use)).toEqual(['summarizeDocument']);
    expect(documents.seen[0]?.message).toMatchObject({ text: 'A short memo about Q3.' });
    expect(conversations.seen.map((s) => s.use)).toEqual(['compactConversation']);
    expect(conversations.seen[0]?.message).toMatchObject({ conversationId: CONVERSATION_ID });
    expect(await documents.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      result: { summary: 'summary by summarizeDocument' },
    });
    expect(await conversations.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      type: 'summarize.conversation',
      status: 'succeeded',
    });
  });

  it("keeps a conversation's summary out of its job, which the event alone carries, and forgets its checkpoints", async () => {
    const world = runnerWorld({
      during: (run) =>
        run.checkpoint(
          'k1',
          { text: 'What the user said, summarized.' },
          {
            round: 1,
            partsDone: 1,
            partsTotal: 2,
          },
        ),
    });

    await world.runJob(conversationJob);

    const stored = await world.jobs.get(USER_ID, JOB_ID);
    expect(stored).toMatchObject({ status: 'succeeded' });
    expect(stored?.result).toBeUndefined();
    expect(await world.jobs.checkpoints(USER_ID, JOB_ID)).toEqual(new Map());
    expect(world.events.published.at(-1)).toMatchObject({
      type: 'job.ended',
      status: 'succeeded',
      result: { summary: 'summary by compactConversation' },
    });
  });

  it('counts a second attempt and keeps the creation time when a job is delivered again', async () => {
    const { runJob, jobs, clock } = runnerWorld({ fail: new ModelError('overloaded', 'busy') });
    const firstAttemptAt = clock.iso();
    await runJob(documentJob).catch(() => undefined);
    clock.advance(60_000);

    await runJob(documentJob).catch(() => undefined);

    expect(await jobs.get(USER_ID, JOB_ID)).toMatchObject({
      attempts: 2,
      createdAt: firstAttemptAt,
    });
  });

  it('throws the failure for the caller to classify, leaving the job running and reporting no success', async () => {
    const failure = new ModelError('overloaded', 'busy');
    const { runJob, jobs, observer } = runnerWorld({ fail: failure });

    await expect(runJob(documentJob)).rejects.toBe(failure);

    expect(await jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'running' });
    expect((await jobs.get(USER_ID, JOB_ID))?.result).toBeUndefined();
    expect(observer.successes).toEqual([]);
  });

  it("records the exact cost the ledger was charged for the job's model calls", async () => {
    const world = createWorkerWorld();

    await world.runJob(documentJob);

    const job = await world.jobs.get(USER_ID, JOB_ID);
    const month = await world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
    expect(job?.status).toBe('succeeded');
    expect(job?.costNanoUsd).toBeGreaterThan(0);
    expect(job?.costNanoUsd).toBe(month.spentNanoUsd);
    expect(job?.usage?.outputTokens).toBe(month.outputTokens);
  });
});
