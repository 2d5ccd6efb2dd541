import { describe, expect, it } from 'vitest';
import type { JobEndedEvent, ProducerEvent } from '../../../../shared/events/producer-events.js';
import { ScriptedModel } from '../../../fakes/scripted-model.js';
import { ScriptedModelBatches } from '../../../fakes/scripted-model-batches.js';
import {
  answeredTurns,
  CONVERSATION_ID,
  createWorkerWorld,
  jobRecord,
  seedConversation,
  USER_ID,
} from './support.js';

const JOB_ID = 'nightly-digest';
const message = {
  type: 'summarize.document' as const,
  jobId: JOB_ID,
  userId: USER_ID,
  text: 'The nightly digest: 14 orders, 2 returns.',
  priority: 'batch' as const,
};

const ended = (events: ProducerEvent[]) =>
  events.filter((event): event is JobEndedEvent => event.type === 'job.ended');

/** A batch job whose batch was submitted (it ends after three looks), then its cancel asked. */
async function cancelledWhileItsBatchRuns() {
  const batches = new ScriptedModelBatches(undefined, 3);
  const world = createWorkerWorld({ batches });
  await world.handleRecord(jobRecord(message));
  const nowIso = new Date(world.clock.nowMs).toISOString();
  expect(await world.jobs.requestCancel(USER_ID, JOB_ID, nowIso)).toMatchObject({
    status: 'running',
    batch: { batchId: batches.batches[0]?.batchId },
  });
  let polls = 0;
  const poll = () => world.handleRecord(jobRecord(message, { messageId: `poll-${++polls}` }));
  return { batches, world, poll };
}

describe('a batch job cancelled while its batch runs', () => {
  it('keeps its batch, unended, while the batch cannot be looked at, then cancels it and ends', async () => {
    const { batches, world, poll } = await cancelledWhileItsBatchRuns();
    batches.checkError = 'overloaded';

    await expect(poll()).rejects.toThrow();

    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      status: 'running',
      batch: { batchId: batches.batches[0]?.batchId },
    });
    expect(ended(world.events.published)).toEqual([]);
    expect(await world.ledger.listReservations()).toHaveLength(1);

    batches.checkError = undefined;
    await poll();
    expect(batches.cancels).toEqual([batches.batches[0]?.batchId]);
    await poll();
    await poll();

    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
      status: 'cancelled',
      costNanoUsd: 0,
    });
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(ended(world.events.published)).toEqual([
      expect.objectContaining({ jobId: JOB_ID, status: 'cancelled', priority: 'batch' }),
    ]);
  });

  it('sends a cancel the provider refused again at its next look, and only once it took', async () => {
    const { batches, world, poll } = await cancelledWhileItsBatchRuns();
    batches.cancelError = 'overloaded';

    await poll();

    expect(world.observer.batchesNotCancelled).toEqual([
      expect.objectContaining({ jobId: JOB_ID, batchId: batches.batches[0]?.batchId }),
    ]);
    expect((await world.jobs.get(USER_ID, JOB_ID))?.batch?.cancelSent).toBeUndefined();
    batches.cancelError = undefined;
    await poll();
    expect(batches.cancels).toHaveLength(1);
    // Canceling upstream: looked at again, it is not cancelled again.
    await poll();
    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'running' });
    await poll();
    expect(batches.cancels).toHaveLength(1);
    expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'cancelled' });
    expect(ended(world.events.published)).toHaveLength(1);
  });
});

describe('a cancel landing as a job finishes', () => {
  it("ends a document's job cancelled, as its 202 said, its summary not kept", async () => {
    const world = createWorkerWorld();
    const markSucceeded = world.jobs.markSucceeded.bind(world.jobs);
    // Its user's cancel lands just before the worker writes its end.
    world.jobs.markSucceeded = async (...args) => {
      const asked = await world.jobs.requestCancel(USER_ID, 'memo', world.clock.iso());
      expect(asked).toMatchObject({ status: 'running' });
      return markSucceeded(...args);
    };

    await world.handleRecord(
      jobRecord({ type: 'summarize.document', jobId: 'memo', userId: USER_ID, text: 'A memo.' }),
    );

    const job = await world.jobs.get(USER_ID, 'memo');
    expect(job).toMatchObject({ status: 'cancelled' });
    expect(job?.result).toBeUndefined();
    expect(job?.costNanoUsd).toBeGreaterThan(0);
    expect(ended(world.events.published).map((e) => e.status)).toEqual(['cancelled']);
  });

  it('ends a compaction whose summary its conversation saved succeeded: the cancel came too late', async () => {
    const world = createWorkerWorld();
    await seedConversation(world.conversations, answeredTurns(5));
    const jobId = `compaction-${CONVERSATION_ID}`;
    const saveSummary = world.conversations.saveSummary.bind(world.conversations);
    world.conversations.saveSummary = async (...args) => {
      const saved = await saveSummary(...args);
      await world.jobs.requestCancel(USER_ID, jobId, world.clock.iso());
      return saved;
    };

    await world.handleRecord(
      jobRecord({
        type: 'summarize.conversation',
        jobId,
        userId: USER_ID,
        conversationId: CONVERSATION_ID,
      }),
    );

    expect(await world.jobs.get(USER_ID, jobId)).toMatchObject({ status: 'succeeded' });
    expect(
      (await world.conversations.getConversation(USER_ID, CONVERSATION_ID))?.summary,
    ).toBeDefined();
    expect(ended(world.events.published).map((e) => e.status)).toEqual(['succeeded']);
  });
});

describe('a job whose last attempt fails as its user asks to cancel it', () => {
  it('ends cancelled, as its 202 said, its message not dead-lettered: its user asked it to stop', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-before', error: 'invalid_request' }],
    });
    const memo = { type: 'summarize.document', jobId: 'memo', userId: USER_ID, text: 'A memo.' };
    const markFailed = world.jobs.markFailed.bind(world.jobs);
    // Asked while its attempt failed: the failure is written after the cancel, before any look.
    world.jobs.markFailed = async (...args) => {
      await world.jobs.requestCancel(USER_ID, 'memo', world.clock.iso());
      return markFailed(...args);
    };

    await world.handleRecord(jobRecord(memo));

    expect(await world.jobs.get(USER_ID, 'memo')).toMatchObject({ status: 'cancelled' });
    expect((world.model as ScriptedModel).requests).toHaveLength(1);
    expect(ended(world.events.published).map((e) => e.status)).toEqual(['cancelled']);
    expect(world.messages.deadLettered).toEqual([]);
  });
});

describe('a compaction cancelled by its user while Claude summarizes', () => {
  it('stops its call, saves no summary, keeps none of its parts, and ends cancelled with what was generated', async () => {
    const model = new ScriptedModel([{ kind: 'stall', chunks: ['The', ' user', ' asked'] }]);
    const world = createWorkerWorld({ model });
    await seedConversation(world.conversations, answeredTurns(5));
    const jobId = `compaction-${CONVERSATION_ID}`;

    const handled = world.handleRecord(
      jobRecord({
        type: 'summarize.conversation',
        jobId,
        userId: USER_ID,
        conversationId: CONVERSATION_ID,
      }),
    );
    while (model.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await world.jobs.requestCancel(USER_ID, jobId, world.clock.iso());
    await handled;

    const job = await world.jobs.get(USER_ID, jobId);
    expect(job).toMatchObject({ status: 'cancelled' });
    // What streamed, estimated from its text (erring high): three tokens or a little more.
    expect(job?.usage?.outputTokens).toBeGreaterThanOrEqual(3);
    expect(job?.costNanoUsd).toBeGreaterThan(0);
    expect(
      (await world.conversations.getConversation(USER_ID, CONVERSATION_ID))?.summary,
    ).toBeUndefined();
    expect(await world.jobs.checkpoints(USER_ID, jobId)).toEqual(new Map());
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(ended(world.events.published)).toEqual([
      expect.objectContaining({ status: 'cancelled', costUsd: expect.any(Number) }),
    ]);
  });
});
