import { describe, expect, it } from 'vitest';
import { MAX_JOB_ANSWER_BYTES } from '../../../../functions/worker/answer-size.js';
import { monthOf } from '../../../../shared/domain/budget.js';
import { nanoToUsd } from '../../../../shared/domain/pricing/model-price.js';
import { NOTHING_COUNTED } from '../../../../shared/domain/settlement.js';
import { estimateTokens, utf8Bytes } from '../../../../shared/domain/tokens.js';
import { ZERO_USAGE } from '../../../../shared/domain/usage.js';
import type { JobEndedEvent, ProducerEvent } from '../../../../shared/events/producer-events.js';
import { contentHashOf } from '../../../../shared/jobs/job-id.js';
import { JOBS_QUEUE_DEFINITION } from '../../../../shared/jobs/queue-definition.js';
import type { QueueMessage } from '../../../../shared/ports/message-actions.js';
import { ScriptedModel } from '../../../fakes/scripted-model.js';
import { ScriptedModelBatches } from '../../../fakes/scripted-model-batches.js';
import {
  answeredTurns,
  answering,
  CONVERSATION_ID,
  createWorkerWorld,
  jobRecord,
  promptOf,
  sections,
  seedConversation,
  USER_ID,
} from './support.js';

const PRODUCER_ID = 'invoice-2026-118:summary';

const message = (fields: Record<string, unknown> = {}) => ({
  type: 'summarize.document' as const,
  jobId: PRODUCER_ID,
  userId: USER_ID,
  text: 'A short memo about Q3.',
  ...fields,
});

/** Runs `during` with the job store's `method` failing, as a table that does not answer. */
async function whileTheTableFails<Method extends 'markSucceeded' | 'saveCheckpoint'>(
  world: ReturnType<typeof createWorkerWorld>,
  method: Method,
  during: () => Promise<unknown>,
) {
  const original = world.jobs[method];
  world.jobs[method] = async () => {
    throw new Error('the table did not answer');
  };
  try {
    await during();
  } finally {
    world.jobs[method] = original;
  }
}

const ended = (events: ProducerEvent[]) =>
  events.filter((event): event is JobEndedEvent => event.type === 'job.ended');

describe('jobs sent by producers', () => {
  it("runs a job under the producer's own id and publishes its end with the summary, usage and cost", async () => {
    const world = createWorkerWorld({ model: answering('Q3 went well.') });

    await world.handleRecord(jobRecord(message()));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({ status: 'succeeded', contentHash: contentHashOf(message()) });
    expect(world.events.deliveries).toEqual([
      {
        event: {
          version: 1,
          type: 'job.ended',
          at: world.clock.iso(),
          jobId: PRODUCER_ID,
          userId: USER_ID,
          jobType: 'summarize.document',
          status: 'succeeded',
          result: { summary: 'Q3 went well.' },
          usage: job?.usage,
          costUsd: (job?.costNanoUsd ?? 0) / 1e9,
        },
        attributes: { type: 'job.ended', status: 'succeeded', userId: USER_ID },
      },
    ]);
  });

  it('fails a job whose summary came out empty, billed: cut before any text, as a model thinking first is', async () => {
    const world = createWorkerWorld({
      model: new ScriptedModel([{ kind: 'answer', chunks: [], stopReason: 'max_tokens' }]),
    });

    await world.handleRecord(jobRecord(message()));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({
      status: 'failed',
      error: { type: 'api_error', message: expect.stringMatching(/raise summaryMaxTokens/) },
    });
    expect(job?.costNanoUsd).toBeGreaterThan(0);
    expect(ended(world.events.published)).toEqual([expect.objectContaining({ status: 'failed' })]);
    expect(world.messages.deadLettered).toEqual([]);
  });

  it('processes the same message twice once: the second finds the job done', async () => {
    const world = createWorkerWorld({ model: answering('Once.') });

    await world.handleRecord(jobRecord(message()));
    await world.handleRecord(jobRecord(message(), { messageId: 'msg-2' }));

    expect((world.model as ScriptedModel).requests).toHaveLength(1);
    expect(ended(world.events.published)).toHaveLength(1);
  });

  it('refuses the same id with other content: dead-lettered, noted on the job, reported as refused, not as the job ending (that job ended twice)', async () => {
    const world = createWorkerWorld({ model: answering('The first.') });
    await world.handleRecord(jobRecord(message()));

    await world.handleRecord(jobRecord(message({ text: 'Another document entirely.' })));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({
      status: 'succeeded',
      result: { summary: 'The first.' },
      conflict: { message: expect.stringContaining('already used for other content') },
    });
    expect(world.messages.deadLettered).toEqual([
      {
        body: expect.stringContaining('Another document'),
        attributes: { type: expect.objectContaining({ stringValue: 'summarize.document' }) },
        reason: expect.stringMatching(/^conflict_error: /),
      },
    ]);
    expect(ended(world.events.published).map((event) => event.status)).toEqual(['succeeded']);
    expect(world.events.published.at(-1)).toMatchObject({
      type: 'message.refused',
      jobId: PRODUCER_ID,
      userId: USER_ID,
      jobType: 'summarize.document',
      error: { type: 'conflict_error', message: expect.stringContaining('other content') },
    });
    expect((world.model as ScriptedModel).requests).toHaveLength(1);
  });

  it('runs a document named with an id of the form the service gives (a producer may name its jobs so)', async () => {
    const world = createWorkerWorld({ model: answering('Summarized.') });
    const serviceFormed = `job_${'d'.repeat(32)}`;

    await world.handleRecord(jobRecord(message({ jobId: serviceFormed })));

    expect(world.messages.deadLettered).toEqual([]);
    expect(await world.jobs.get(USER_ID, serviceFormed)).toMatchObject({ status: 'succeeded' });
  });

  it("refuses a document under a compaction's id that holds no content hash, leaving the compaction as it was", async () => {
    const world = createWorkerWorld({ model: answering('Summarized.') });
    const compaction = {
      jobId: PRODUCER_ID,
      userId: USER_ID,
      type: 'summarize.conversation' as const,
    };
    await world.jobs.create(compaction, world.clock.iso());

    await world.handleRecord(jobRecord(message()));

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      ...compaction,
      status: 'queued',
      attempts: 0,
    });
    expect(world.messages.deadLettered).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^conflict_error: /) }),
    ]);
    expect((world.model as ScriptedModel).requests).toHaveLength(0);
  });

  it("drops a compaction whose id another content's job holds without dead-lettering it (the next turn asks under another id)", async () => {
    const world = createWorkerWorld({ model: answering('Summarized.') });
    await seedConversation(world.conversations, answeredTurns(5));
    await world.handleRecord(jobRecord(message()));

    await world.handleRecord(
      jobRecord({
        type: 'summarize.conversation',
        jobId: PRODUCER_ID,
        userId: USER_ID,
        conversationId: CONVERSATION_ID,
      }),
    );

    expect(world.messages.deadLettered).toEqual([]);
    expect(world.messages.retries).toEqual([]);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      type: 'summarize.document',
      status: 'succeeded',
      conflict: { message: expect.stringContaining('already used for other content') },
    });
    expect((world.model as ScriptedModel).requests).toHaveLength(1);
  });

  it('reports a message that fails the schema when it names a user and a job id, and only then', async () => {
    const world = createWorkerWorld();

    await world.handleRecord(
      jobRecord({ type: 'summarize.document', userId: 'u-1', jobId: 'order-7' }),
    );
    await world.handleRecord(jobRecord({ type: 'summarize.document', userId: 'u-1' }));
    await world.handleRecord(jobRecord('not json at all'));

    expect(world.messages.deadLettered).toHaveLength(3);
    expect(world.events.deliveries).toEqual([
      {
        event: expect.objectContaining({
          jobId: 'order-7',
          userId: 'u-1',
          status: 'dead_lettered',
          error: { type: 'invalid_request_error', message: expect.stringContaining('body.text') },
        }),
        attributes: { type: 'job.ended', status: 'dead_lettered', userId: 'u-1' },
      },
    ]);
  });

  it('does not end a job that exists in its events for another message that fails the schema', async () => {
    const world = createWorkerWorld({ model: answering('Done.') });
    await world.handleRecord(jobRecord(message()));

    await world.handleRecord(jobRecord({ ...message(), unknownField: 1 }, { messageId: 'msg-2' }));

    expect(world.messages.deadLettered).toHaveLength(1);
    expect(ended(world.events.published).map((event) => event.status)).toEqual(['succeeded']);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'succeeded' });
  });

  it('never runs a job that was cancelled while queued', async () => {
    const world = createWorkerWorld();
    await world.jobs.create(
      { jobId: PRODUCER_ID, userId: USER_ID, type: 'summarize.document' },
      world.clock.iso(),
    );
    await world.jobs.cancel(USER_ID, PRODUCER_ID, world.clock.iso());

    await world.handleRecord(jobRecord(message()));

    expect((world.model as ScriptedModel).requests).toHaveLength(0);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'cancelled' });
    expect(world.messages.retries).toEqual([]);
  });
});

describe("a compaction's parts", () => {
  const compaction = {
    type: 'summarize.conversation',
    jobId: PRODUCER_ID,
    userId: USER_ID,
    conversationId: CONVERSATION_ID,
  } as const;
  const part = { key: 'part-1', text: 'What the first part of the conversation said.' };

  /** A compaction that summarized its first part of two, then stopped. */
  async function compactionWithAPart(world: ReturnType<typeof createWorkerWorld>) {
    await world.jobs.create(
      { jobId: PRODUCER_ID, userId: USER_ID, type: 'summarize.conversation' },
      world.clock.iso(),
    );
    await world.jobs.saveCheckpoint(
      USER_ID,
      PRODUCER_ID,
      part,
      { progress: { round: 1, partsDone: 1, partsTotal: 2 }, usage: ZERO_USAGE, costNanoUsd: 0 },
      world.clock.iso(),
    );
  }

  it("are forgotten when the compaction was cancelled between its attempts: they are the conversation's", async () => {
    const world = createWorkerWorld();
    await compactionWithAPart(world);
    await world.jobs.cancel(USER_ID, PRODUCER_ID, world.clock.iso());

    await world.handleRecord(jobRecord(compaction));

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'cancelled' });
    expect(await world.jobs.checkpoints(USER_ID, PRODUCER_ID)).toEqual(new Map());
  });

  it('are kept when the compaction is dead-lettered: a redrive runs it again from them', async () => {
    const world = createWorkerWorld({
      model: new ScriptedModel(() => ({ kind: 'fail-before', error: 'overloaded' })),
    });
    await seedConversation(world.conversations, answeredTurns(5));
    await compactionWithAPart(world);

    await expect(
      world.handleRecord(
        jobRecord(compaction, { receiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount }),
      ),
    ).rejects.toThrow();

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'dead_lettered' });
    expect(await world.jobs.checkpoints(USER_ID, PRODUCER_ID)).toEqual(
      new Map([[part.key, { text: part.text }]]),
    );
  });
});

describe('failures producers hear of', () => {
  it("retries after the provider's retry-after when it is longer than the back-off, passed on through the message's visibility", async () => {
    const world = createWorkerWorld({
      model: new ScriptedModel(() => ({
        kind: 'fail-before',
        error: 'rate_limited',
        retryAfterSeconds: 70,
      })),
      limits: { maxRetryWaitMs: 5_000, jobRetryBaseSeconds: 30 },
    });

    await expect(
      world.handleRecord(jobRecord(message(), { receiptHandle: 'rh-7' })),
    ).rejects.toThrow();

    // Longer than the back-off (30 s for a first retry), which a shorter one would get.
    expect(world.messages.retries).toEqual([{ receiptHandle: 'rh-7', seconds: 70 }]);
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(world.events.published).toEqual([]);
  });

  it('publishes dead_lettered for the last attempt of a retryable failure, failed for a budget refusal', async () => {
    const overloaded = createWorkerWorld({
      model: new ScriptedModel(() => ({ kind: 'fail-before', error: 'overloaded' })),
      limits: { modelMaxRetries: 0 },
    });
    await expect(
      overloaded.handleRecord(jobRecord(message(), { receiveCount: 5 })),
    ).rejects.toThrow();
    expect(ended(overloaded.events.published)).toEqual([
      expect.objectContaining({
        status: 'dead_lettered',
        error: expect.objectContaining({ type: 'overloaded_error' }),
      }),
    ]);

    const poor = createWorkerWorld({ limits: { userMonthlyBudgetUsd: 0.000_001 } });
    await poor.handleRecord(jobRecord(message()));
    expect(ended(poor.events.published)).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: expect.objectContaining({ type: 'billing_error' }),
      }),
    ]);
  });
});

describe("a long document's checkpoints", () => {
  it('continues a retried job from its checkpoints: parts done are not asked (or paid) again', async () => {
    let failThirdOnce = true;
    const model = new ScriptedModel((request) => {
      const prompt = promptOf(request);
      if (prompt.includes('Section 2:') && failThirdOnce) {
        failThirdOnce = false;
        return { kind: 'fail-before', error: 'overloaded' };
      }
      return { kind: 'answer', chunks: ['Summary.'] };
    });
    const world = createWorkerWorld({
      model,
      limits: { summaryConcurrency: 1, modelMaxRetries: 0 },
    });
    const text = sections(4);

    await expect(world.handleRecord(jobRecord(message({ text })))).rejects.toThrow();
    expect(world.jobs.checkpointsSaved).toHaveLength(2);
    await world.handleRecord(jobRecord(message({ text }), { receiveCount: 2 }));

    const asked = (section: number) =>
      model.requests.filter((r) => promptOf(r).includes(`Section ${section}:`)).length;
    expect([asked(0), asked(1), asked(2), asked(3)]).toEqual([1, 1, 2, 1]);
    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({
      status: 'succeeded',
      progress: { round: 1, partsDone: 4, partsTotal: 4 },
    });
    const month = await world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
    expect(job?.costNanoUsd).toBe(month.spentNanoUsd);
    expect(world.events.published.filter((e) => e.type === 'job.progress')).toHaveLength(4);
  });

  it('fails a retried job for a part refused before the retry, kept as a checkpoint', async () => {
    let failThirdOnce = true;
    const model = new ScriptedModel((request) => {
      const prompt = promptOf(request);
      if (prompt.includes('Section 1:')) {
        return { kind: 'answer', chunks: ['I cannot'], stopReason: 'refusal' };
      }
      if (prompt.includes('Section 2:') && failThirdOnce) {
        failThirdOnce = false;
        return { kind: 'fail-before', error: 'overloaded' };
      }
      return { kind: 'answer', chunks: ['Summary.'] };
    });
    const world = createWorkerWorld({
      model,
      limits: { summaryConcurrency: 1, modelMaxRetries: 0 },
    });
    const text = sections(4);

    await expect(world.handleRecord(jobRecord(message({ text })))).rejects.toThrow();
    await world.handleRecord(jobRecord(message({ text }), { receiveCount: 2 }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({ status: 'failed', error: { type: 'refusal' } });
    expect(job?.result).toBeUndefined();
    expect(ended(world.events.published).map((event) => event.status)).toEqual(['failed']);
  });

  it('asks again the part Claude refused when the failed job is asked for again, reusing the rest', async () => {
    let refuse = true;
    const model = new ScriptedModel((request) => {
      if (promptOf(request).includes('Section 1:') && refuse) {
        return { kind: 'answer', chunks: ['I cannot'], stopReason: 'refusal' };
      }
      return { kind: 'answer', chunks: ['Summary.'] };
    });
    const world = createWorkerWorld({ model, limits: { summaryConcurrency: 1 } });
    const text = sections(4);
    await world.handleRecord(jobRecord(message({ text })));
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'failed' });
    const callsBefore = model.requests.length;

    refuse = false;
    world.clock.advance(1_000);
    await world.handleRecord(
      jobRecord(message({ text }), { messageId: 'msg-2', sentAtMs: world.clock.nowMs }),
    );

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({ status: 'succeeded', result: { summary: 'Summary.' } });
    // The refused part and the summaries of the parts: the parts answered before are reused.
    const asked = model.requests.slice(callsBefore).map(promptOf);
    expect(asked.some((prompt) => prompt.includes('Section 1:'))).toBe(true);
    expect(asked.some((prompt) => prompt.includes('Section 2:'))).toBe(false);
  });
  it('asks again the part Claude refused on the retry of an asked-again attempt that failed before it could', async () => {
    let phase: 'refuse' | 'overloaded' | 'answer' = 'refuse';
    const model = new ScriptedModel((request) => {
      if (!promptOf(request).includes('Section 1:') || phase === 'answer') {
        return { kind: 'answer', chunks: ['Summary.'] };
      }
      return phase === 'refuse'
        ? { kind: 'answer', chunks: ['I cannot'], stopReason: 'refusal' }
        : { kind: 'fail-before', error: 'overloaded' };
    });
    const world = createWorkerWorld({ model, limits: { summaryConcurrency: 1 } });
    const text = sections(4);
    await world.handleRecord(jobRecord(message({ text })));
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'failed' });

    phase = 'overloaded';
    world.clock.advance(1_000);
    const again = jobRecord(message({ text }), { messageId: 'msg-2', sentAtMs: world.clock.nowMs });
    await world.handleRecord(again).catch(() => undefined);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'queued',
      error: { type: 'overloaded_error' },
    });
    phase = 'answer';
    world.clock.advance(60_000);
    await world.handleRecord({
      ...again,
      attributes: { ...again.attributes, ApproximateReceiveCount: '2' },
    });

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'succeeded',
      result: { summary: 'Summary.' },
    });
  });
  it('asks again the part Claude refused when POST /v1/jobs asked for the failed job again', async () => {
    let refuse = true;
    const model = new ScriptedModel((request) => {
      if (promptOf(request).includes('Section 1:') && refuse) {
        return { kind: 'answer', chunks: ['I cannot'], stopReason: 'refusal' };
      }
      return { kind: 'answer', chunks: ['Summary.'] };
    });
    const world = createWorkerWorld({ model, limits: { summaryConcurrency: 1 } });
    const text = sections(4);
    await world.handleRecord(jobRecord(message({ text })));
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'failed' });

    refuse = false;
    world.clock.advance(1_000);
    // As POST /v1/jobs does: the job queued again, then its message sent.
    const nowIso = new Date(world.clock.nowMs).toISOString();
    await world.jobs.requeue(USER_ID, PRODUCER_ID, nowIso);
    world.clock.advance(10);
    await world.handleRecord(
      jobRecord(message({ text }), { messageId: 'msg-2', sentAtMs: world.clock.nowMs }),
    );

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'succeeded',
      result: { summary: 'Summary.' },
    });
  });
});

describe('batch jobs', () => {
  it('goes through a batch without a function waiting, and is billed at half the price', async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A batch summary.' }),
      1,
    );
    const world = createWorkerWorld({ batches, limits: { batchPollSeconds: 45 } });
    const body = message({ priority: 'batch' });

    await world.handleRecord(jobRecord(body));
    expect(batches.batches).toHaveLength(1);
    // With its attributes: subscribers filtering on the job's type still see it.
    expect(world.messages.requeued).toEqual([
      {
        body: JSON.stringify(body),
        attributes: jobRecord(body).messageAttributes,
        delaySeconds: 45,
      },
    ]);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'running',
      priority: 'batch',
      batch: { batchId: batches.batches[0]?.batchId },
    });
    // Submitted, it is billed all it holds should no delivery ever collect it.
    expect((await world.ledger.listReservations())[0]?.ifAbandoned).toMatchObject({
      api: 'jobs',
      model: 'claude-haiku-4-5',
    });
    await world.handleRecord(jobRecord(body, { messageId: 'poll-1' }));
    expect(world.messages.requeued).toHaveLength(2);
    await world.handleRecord(jobRecord(body, { messageId: 'poll-2' }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job?.status).toBe('succeeded');
    expect(job?.result).toEqual({ summary: 'A batch summary.' });
    expect(job?.batch).toBeUndefined();
    expect((world.model as ScriptedModel).requests).toHaveLength(0);
    const fullPrice = world.prices.costNanoUsd('claude-haiku-4-5', job!.usage!);
    expect(job?.costNanoUsd).toBe(Math.ceil(fullPrice / 2));
    const month = await world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
    expect(month.spentNanoUsd).toBe(job?.costNanoUsd);
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(ended(world.events.published)).toEqual([
      expect.objectContaining({ status: 'succeeded', priority: 'batch' }),
    ]);
    // The usage report counts the batch once, at the batch price, under its reservation's id.
    expect(world.usageRecords.recorded).toEqual([
      expect.objectContaining({
        requestId: `${PRODUCER_ID}:${world.ledger.settled[0]?.reservation.id}`,
        principal: USER_ID,
        api: 'jobs',
        costNanoUsd: job?.costNanoUsd,
      }),
    ]);
  });

  it("holds a batch on its API key's month and reports it under the key, revoked while the batch ran or not", async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text: 'Summary.' }), 0);
    const world = createWorkerWorld({ batches });
    const keyId = `key_${'b'.repeat(32)}`;
    const createdAt = new Date(world.clock.nowMs).toISOString();
    await world.apiKeys.create(
      { id: keyId, principal: USER_ID, hint: 'csk_…', createdAt, monthlyBudgetUsd: 5 },
      'hash',
    );
    const body = message({ priority: 'batch', apiKeyId: keyId });

    await world.handleRecord(jobRecord(body));
    expect(await world.ledger.listReservations()).toEqual([expect.objectContaining({ keyId })]);
    await world.apiKeys.revoke(keyId, createdAt);
    await world.handleRecord(jobRecord(body, { messageId: 'poll-1' }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job?.status).toBe('succeeded');
    const month = monthOf(world.clock.nowMs);
    expect((await world.ledger.keyMonth(keyId, month)).spentNanoUsd).toBe(job?.costNanoUsd);
    expect(world.usageRecords.recorded).toEqual([
      expect.objectContaining({ keyId, costNanoUsd: job?.costNanoUsd }),
    ]);
  });

  it('submits no batch for a job whose API key was revoked: it fails, its message not dead-lettered', async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text: 'Summary.' }), 0);
    const world = createWorkerWorld({ batches });
    const keyId = `key_${'c'.repeat(32)}`;
    const createdAt = new Date(world.clock.nowMs).toISOString();
    await world.apiKeys.create({ id: keyId, principal: USER_ID, hint: 'csk_…', createdAt }, 'hash');
    await world.apiKeys.revoke(keyId, createdAt);

    await world.handleRecord(jobRecord(message({ priority: 'batch', apiKeyId: keyId })));

    expect(batches.batches).toEqual([]);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'failed',
      error: { type: 'authentication_error' },
    });
    expect(world.messages.deadLettered).toEqual([]);
  });

  it('keeps a batch answer longer than one item stores cut at the cap, on a character boundary, billed whole', async () => {
    // 2,000 words of 200 bytes (100 two-byte characters): 402,000 bytes with the spaces.
    const text = Array.from({ length: 2_000 }, () => 'é'.repeat(100)).join(' ');
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text }), 0);
    const world = createWorkerWorld({ batches, limits: { summaryMaxTokens: 128_000 } });
    const body = message({ priority: 'batch' });

    await world.handleRecord(jobRecord(body));
    await world.handleRecord(jobRecord(body, { messageId: 'poll-1' }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job?.status).toBe('succeeded');
    const summary = job?.result?.summary ?? '';
    expect(utf8Bytes(summary)).toBeLessThanOrEqual(MAX_JOB_ANSWER_BYTES);
    expect(utf8Bytes(summary)).toBeGreaterThan(MAX_JOB_ANSWER_BYTES - 2);
    expect(text.startsWith(summary)).toBe(true);
    expect(job?.result?.truncated).toBe(true);
    expect(ended(world.events.published)).toEqual([
      expect.objectContaining({ result: expect.objectContaining({ truncated: true }) }),
    ]);
    // What the batch generated is what it bills: every word.
    expect(job?.usage?.outputTokens).toBe(2_000);
  });

  it('fails a batch job for a part refused in an earlier round, collected by an earlier delivery', async () => {
    const batches = new ScriptedModelBatches(
      (request) =>
        JSON.stringify(request.request.messages).includes('Section 1:')
          ? { kind: 'answer', text: 'I cannot', stopReason: 'refusal' }
          : { kind: 'answer', text: 'Part summary.' },
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch', text: sections(3) });

    for (let delivery = 0; delivery < 4; delivery++) {
      await world.handleRecord(jobRecord(body, { messageId: `m-${delivery}` }));
    }

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({ status: 'failed', error: { type: 'refusal' } });
    expect(job?.result).toBeUndefined();
  });

  it('keeps a batch summary cut at its limit truncated when a redelivery finishes the job', async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A summary cut', stopReason: 'max_tokens' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });
    await world.handleRecord(jobRecord(body));
    // Its answer collected and kept, the job's end is not written.
    await whileTheTableFails(world, 'markSucceeded', () =>
      expect(world.handleRecord(jobRecord(body, { messageId: 'poll-1' }))).rejects.toThrow(),
    );
    await world.handleRecord(jobRecord(body, { messageId: 'poll-2', receiveCount: 2 }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job?.result).toEqual({ summary: 'A summary cut', truncated: true });
    expect(ended(world.events.published).at(-1)).toMatchObject({
      status: 'succeeded',
      result: expect.objectContaining({ truncated: true }),
    });
  });

  it('summarizes a long document in a batch per round: the parts, then their summaries', async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text: 'Part summary.' }), 0);
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch', text: sections(3) });

    for (let delivery = 0; delivery < 4; delivery++) {
      await world.handleRecord(jobRecord(body, { messageId: `m-${delivery}` }));
    }

    expect(batches.batches.map((b) => b.requests.length)).toEqual([3, 1]);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'succeeded' });
  });

  it('prices each request of a Haiku 5.5 batch by its own prompt, not by the batch total', async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text: 'Part summary.' }), 0);
    const world = createWorkerWorld({
      batches,
      limits: {
        defaultModel: 'claude-haiku-5-5',
        models: new Set(['claude-haiku-5-5']),
        documentChunkTokens: 40_000,
      },
    });
    // Three parts of about 35,000 tokens: each under the 100,000-token line, together over it.
    const text = [0, 1, 2]
      .map((i) => `Section ${i}: ${'fact '.repeat(28_000).trim()}`)
      .join('\n\n');
    const body = message({ priority: 'batch', text });

    for (let delivery = 0; delivery < 4; delivery++) {
      await world.handleRecord(jobRecord(body, { messageId: `m-${delivery}` }));
    }

    const [parts] = batches.batches;
    expect(parts?.requests).toHaveLength(3);
    const [partsCall] = world.usageRecords.recorded;
    expect(partsCall?.usage.inputTokens).toBeGreaterThan(100_000);
    // At $0.10 / $0.50 per million, halved: what each request pays at its own prompt length.
    const each = (inputTokens: number, outputTokens: number) =>
      world.prices.costNanoUsd(
        'claude-haiku-5-5',
        { inputTokens, outputTokens, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
        'batch',
      );
    // The fake batch reads one token per 4 bytes of every block and answers 2 words.
    const perPart = parts!.requests.map(({ request }) => {
      const blocks = [...request.system, ...request.messages.flatMap((m) => m.blocks)];
      return each(
        blocks.reduce((sum, block) => sum + estimateTokens(block.text), 0),
        2,
      );
    });
    expect(partsCall?.costNanoUsd).toBe(perPart.reduce((sum, cost) => sum + cost, 0));
    expect(partsCall?.costNanoUsd).toBeLessThan(
      each(partsCall!.usage.inputTokens, partsCall!.usage.outputTokens) / 4,
    );
  });

  it('publishes in CostUsd what the ledger counts for a batch: none of what a sweep settled and published first', async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'answer', text: 'Summary.' }), 0);
    const world = createWorkerWorld({ batches });
    // An earlier settle failed; the sweep settled the batch to the figures its entry kept,
    // and published them: this settle counts only what it adds, nothing.
    const settle = world.ledger.settle.bind(world.ledger);
    world.ledger.settle = async (...args) => {
      await settle(...args);
      return NOTHING_COUNTED;
    };
    const body = message({ priority: 'batch' });

    await world.handleRecord(jobRecord(body));
    await world.handleRecord(jobRecord(body, { messageId: 'poll' }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({ status: 'succeeded' });
    expect(job?.costNanoUsd).toBeGreaterThan(0);
    expect(world.observer.modelCalls).toEqual([NOTHING_COUNTED]);
  });

  it("keeps a batch that outlived its job's retries: a redrive collects it, submitting no other", async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A batch summary.' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });
    await world.handleRecord(jobRecord(body));
    batches.checkError = 'overloaded';

    const lastPoll = jobRecord(body, {
      messageId: 'poll',
      receiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
    });
    await expect(world.handleRecord(lastPoll)).rejects.toThrow();
    const batchId = batches.batches[0]?.batchId;
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'dead_lettered',
      batch: { batchId },
    });

    batches.checkError = undefined;
    world.clock.advance(60_000);
    await world.handleRecord(
      jobRecord(body, { messageId: 'redriven', sentAtMs: world.clock.nowMs }),
    );

    expect(batches.batches.map((batch) => batch.batchId)).toEqual([batchId]);
    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    expect(job).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      result: { summary: 'A batch summary.' },
    });
    expect(job?.batch).toBeUndefined();
    expect(await world.ledger.listReservations()).toEqual([]);
    const month = await world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
    expect(month.spentNanoUsd).toBe(job?.costNanoUsd);
    expect(ended(world.events.published).map((event) => event.status)).toEqual([
      'dead_lettered',
      'succeeded',
    ]);
  });

  it('counts a batch once on the job and its event when collected again, its checkpoint lost (it was counted twice)', async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A batch summary.' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });
    await world.handleRecord(jobRecord(body));
    // Its answers collected, the job's checkpoint of them is lost.
    await whileTheTableFails(world, 'saveCheckpoint', () =>
      expect(world.handleRecord(jobRecord(body, { messageId: 'poll-1' }))).rejects.toThrow(),
    );
    await world.handleRecord(jobRecord(body, { messageId: 'poll-2', receiveCount: 2 }));

    const job = await world.jobs.get(USER_ID, PRODUCER_ID);
    const month = await world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
    expect(job).toMatchObject({ status: 'succeeded', costNanoUsd: month.spentNanoUsd });
    expect(job?.batch).toBeUndefined();
    expect(month.spentNanoUsd).toBeGreaterThan(0);
    expect(world.observer.modelCalls).toHaveLength(1);
    expect(ended(world.events.published).at(-1)).toMatchObject({
      status: 'succeeded',
      costUsd: nanoToUsd(month.spentNanoUsd),
    });
  });

  it('dead-letters a batch job whose batches keep failing after five failed deliveries in all, as any job', async () => {
    const batches = new ScriptedModelBatches(() => ({ kind: 'error', error: 'overloaded' }), 0);
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });

    // As SQS delivers: a message that threw comes back, its receive count one higher; one the
    // worker put back is a new message; one it handled without throwing is deleted.
    let next: { body: string; attributes?: QueueMessage['attributes'] } = {
      body: JSON.stringify(body),
    };
    let receiveCount = 1;
    for (let delivery = 0; delivery < 40; delivery++) {
      const requeuedBefore = world.messages.requeued.length;
      const record = jobRecord(body, {
        messageId: `m-${delivery}`,
        receiveCount,
        ...(next.attributes && { attributes: next.attributes }),
      });
      const threw = await world.handleRecord(record).then(
        () => false,
        () => true,
      );
      if (threw) {
        if (receiveCount === JOBS_QUEUE_DEFINITION.maxReceiveCount) break;
        receiveCount += 1;
      } else if (world.messages.requeued.length > requeuedBefore) {
        next = world.messages.requeued.at(-1)!;
        receiveCount = 1;
      } else break;
    }

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'dead_lettered',
      error: { type: 'overloaded_error' },
    });
    expect(batches.batches.length).toBeLessThanOrEqual(JOBS_QUEUE_DEFINITION.maxReceiveCount);
    expect(ended(world.events.published).map((event) => event.status)).toEqual(['dead_lettered']);
    // SQS counts the last copy's deliveries alone: the worker moves it, without the count.
    expect(world.messages.deadLettered).toEqual([
      expect.objectContaining({
        body: JSON.stringify(body),
        attributes: { type: expect.objectContaining({ stringValue: 'summarize.document' }) },
      }),
    ]);
    expect(await world.ledger.listReservations()).toEqual([]);
  });

  it("gives a redriven batch job all its deliveries again, though SQS's own count alone reached the limit on a copy carrying failed ones", async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A batch summary.' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });
    await world.handleRecord(jobRecord(body));
    batches.checkError = 'overloaded';
    // A copy put back after two failed deliveries, whose own earlier deliveries ended with no
    // word from the worker (it died, or the table did not answer): on its 5th, it fails again.
    const copy: QueueMessage['attributes'] = {
      type: { dataType: 'String', stringValue: 'summarize.document' },
      failedDeliveries: { dataType: 'Number', stringValue: '2' },
    };
    const threw = await world
      .handleRecord(
        jobRecord(body, {
          messageId: 'copy',
          attributes: copy,
          receiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
        }),
      )
      .then(
        () => false,
        () => true,
      );
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'dead_lettered' });
    // What the dead-letter queue holds: moved by SQS (thrown back), attributes and all; or by the worker.
    const deadLettered = threw ? copy : world.messages.deadLettered.at(-1)?.attributes;

    expect(await redrivenUntilDeadLettered(world, body, deadLettered)).toBe(
      JOBS_QUEUE_DEFINITION.maxReceiveCount,
    );
  });

  it('gives a redriven batch job all its deliveries again, though the job kept failed ones for copies with no room for them', async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'answer', text: 'A batch summary.' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });
    // All ten attributes SQS allows are the producer's: its copies carry no count.
    const attributes: QueueMessage['attributes'] = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [
        `producer${i}`,
        { dataType: 'String', stringValue: String(i) },
      ]),
    );
    await world.handleRecord(jobRecord(body, { attributes }));
    batches.checkError = 'overloaded';
    await world.jobs.recordFailedDeliveries(USER_ID, PRODUCER_ID, 2);
    await world
      .handleRecord(
        jobRecord(body, {
          messageId: 'copy',
          attributes,
          receiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount - 2,
        }),
      )
      .catch(() => undefined);
    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({ status: 'dead_lettered' });

    expect(await redrivenUntilDeadLettered(world, body, attributes)).toBe(
      JOBS_QUEUE_DEFINITION.maxReceiveCount,
    );
  });

  it('dead-letters the job with the error of a request the batch could not answer', async () => {
    const batches = new ScriptedModelBatches(
      () => ({ kind: 'error', error: 'invalid_request' }),
      0,
    );
    const world = createWorkerWorld({ batches });
    const body = message({ priority: 'batch' });

    await world.handleRecord(jobRecord(body));
    await world.handleRecord(jobRecord(body, { messageId: 'poll' }));

    expect(await world.jobs.get(USER_ID, PRODUCER_ID)).toMatchObject({
      status: 'dead_lettered',
      error: { type: 'invalid_request_error' },
    });
    expect(await world.ledger.listReservations()).toEqual([]);
  });
});

describe('budget events', () => {
  it("publishes each threshold a principal's spend crosses once a month", async () => {
    const world = createWorkerWorld({
      model: new ScriptedModel(() => ({
        kind: 'answer',
        chunks: ['ok'],
        usage: { inputTokens: 400_000 },
      })),
      limits: { userMonthlyBudgetUsd: 1 },
    });

    await world.handleRecord(jobRecord(message({ jobId: 'a' })));
    await world.handleRecord(jobRecord(message({ jobId: 'b' })));

    const budget = world.events.deliveries.filter((d) => d.event.type === 'budget.threshold');
    expect(
      budget.map((d) => [d.event.type === 'budget.threshold' && d.event.percent, d.attributes]),
    ).toEqual([
      [50, { type: 'budget.threshold', scope: 'principal', userId: USER_ID }],
      [80, { type: 'budget.threshold', scope: 'principal', userId: USER_ID }],
    ]);
  });
});

/**
 * Redrives the job's message a minute later and delivers it again and again, failing: how many
 * deliveries it takes until the job is dead-lettered again (10 at most).
 */
async function redrivenUntilDeadLettered(
  world: ReturnType<typeof createWorkerWorld>,
  body: ReturnType<typeof message>,
  attributes?: QueueMessage['attributes'],
): Promise<number> {
  world.clock.advance(60_000);
  const sentAtMs = world.clock.nowMs;
  for (let receiveCount = 1; receiveCount <= 10; receiveCount++) {
    const redriven = jobRecord(body, {
      messageId: 'redriven',
      sentAtMs,
      receiveCount,
      ...(attributes && { attributes }),
    });
    await world.handleRecord(redriven).catch(() => undefined);
    if ((await world.jobs.get(USER_ID, PRODUCER_ID))?.status === 'dead_lettered') {
      return receiveCount;
    }
  }
  return 10;
}
