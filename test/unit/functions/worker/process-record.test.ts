import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createRecordHandler } from '../../../../functions/worker/process-record.js';
import type { RunJobOnce } from '../../../../functions/worker/run-once.js';
import { BudgetExceededError, ModelError } from '../../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../../shared/domain/usage.js';
import { jobIdOf } from '../../../../shared/jobs/job-id.js';
import { JOBS_QUEUE_DEFINITION } from '../../../../shared/jobs/queue-definition.js';
import type { Model } from '../../../../shared/ports/model.js';
import { InMemoryJobStore } from '../../../fakes/in-memory-job-store.js';
import { RecordingEventPublisher } from '../../../fakes/recording-event-publisher.js';
import { RecordingMessageActions } from '../../../fakes/recording-message-actions.js';
import { type ModelScript, ScriptedModel } from '../../../fakes/scripted-model.js';
import {
  CONVERSATION_ID,
  createWorkerWorld,
  JOB_ID,
  jobRecord,
  ManualClock,
  promptOf,
  RecordingJobObserver,
  sections,
  USER_ID,
  WORKER_LIMITS,
} from './support.js';

const LAST_ATTEMPT = JOBS_QUEUE_DEFINITION.maxReceiveCount;

const documentMessage = {
  type: 'summarize.document',
  jobId: JOB_ID,
  userId: USER_ID,
  text: 'A short memo about Q3.',
} as const;

/** A model that fails every call the same way. */
const alwaysFailing = (error: Extract<ModelScript, { kind: 'fail-before' }>['error']) =>
  new ScriptedModel(() => ({ kind: 'fail-before', error }));

/** A record handler whose job runner is `runJob`, on the in-memory job store. */
function handlerWith(runJob: RunJobOnce) {
  const jobs = new InMemoryJobStore();
  const messages = new RecordingMessageActions();
  const observer = new RecordingJobObserver();
  const events = new RecordingEventPublisher();
  const clock = new ManualClock();
  const handleRecord = createRecordHandler({
    runJob,
    jobs,
    messages,
    events,
    clock: clock.read,
    observer,
    limits: WORKER_LIMITS,
  });
  return { handleRecord, jobs, messages, observer, events, clock };
}

describe('createRecordHandler', () => {
  describe('a valid message', () => {
    it('runs its job to success and reports no failure', async () => {
      const world = createWorkerWorld({ model: [{ kind: 'answer', chunks: ['Q3 memo.'] }] });

      await world.handleRecord(jobRecord(documentMessage));

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'succeeded',
        result: { summary: 'Q3 memo.' },
      });
      expect(world.messages.retries).toEqual([]);
      expect(world.messages.deadLettered).toEqual([]);
    });

    it('gives a message without a jobId the id its content hashes to', async () => {
      const world = createWorkerWorld();
      const { jobId: _, ...withoutId } = documentMessage;

      await world.handleRecord(jobRecord(withoutId));

      const jobId = jobIdOf(withoutId);
      expect(jobId).toMatch(/^job_[a-f0-9]{32}$/);
      expect(await world.jobs.get(USER_ID, jobId)).toMatchObject({ status: 'succeeded' });
      expect(await world.jobs.get(USER_ID, JOB_ID)).toBeUndefined();
    });

    it('hands the job runner the parsed message with its id, its attempt and the Lambda context', async () => {
      const calls: Array<Parameters<RunJobOnce>> = [];
      const { handleRecord } = handlerWith(async (...args) => {
        calls.push(args);
      });
      const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as Context;
      const { jobId: _, ...withoutId } = documentMessage;

      await handleRecord(jobRecord(withoutId), context);

      expect(calls).toEqual([
        [
          { ...withoutId, jobId: jobIdOf(withoutId) },
          {
            deadline: expect.objectContaining({ signal: expect.any(AbortSignal) }),
            record: expect.objectContaining({ jobId: jobIdOf(withoutId), status: 'queued' }),
          },
          context,
        ],
      ]);
      expect(calls[0]?.[1]?.deadline.remainingMs()).toBeLessThanOrEqual(
        60_000 - WORKER_LIMITS.deadlineMarginMs,
      );
    });
  });

  describe('an invalid message', () => {
    it('is dead-lettered at once with the reason, reported, and not retried', async () => {
      const world = createWorkerWorld();
      const record = jobRecord(
        { type: 'summarize.document', userId: 'x' },
        { messageId: 'msg-bad' },
      );

      await world.handleRecord(record);

      const reason =
        'invalid job message: body.text: Invalid input: expected string, received undefined';
      expect(world.messages.deadLettered).toEqual([
        { body: record.body, attributes: record.messageAttributes, reason },
      ]);
      expect(world.observer.invalidMessages).toEqual([{ messageId: 'msg-bad', reason }]);
      expect(world.messages.retries).toEqual([]);
      expect((world.model as ScriptedModel).requests).toHaveLength(0);
    });

    it.each([
      // Not JSON.parse's own words, which quote the body.
      ['a body that is not JSON', 'not json', /^invalid job message: body: the body is not JSON$/],
      [
        'a text that is only whitespace',
        { ...documentMessage, text: ' \n'.repeat(1_000) },
        /body\.text: text must not be empty or only whitespace/,
      ],
      [
        'an unknown job type',
        { type: 'translate', userId: 'x' },
        /body\.type: Invalid discriminator/,
      ],
      [
        // Counted, not named: a key is the producer's text, and may be anything.
        'fields the contract does not know',
        { ...documentMessage, urgency: 'high', 'SECRET-sk-live-0123': 1 },
        /^invalid job message: body: 2 field\(s\) the contract does not have \(docs\/job-message\.schema\.json\)$/,
      ],
      [
        'a jobId with characters a producer id may not have',
        { ...documentMessage, jobId: 'job 1/2' },
        /body\.jobId: jobId must be 1-128 characters/,
      ],
      ['an unknown priority', { ...documentMessage, priority: 'high' }, /body\.priority/],
      [
        // The reason goes into the producer's event too, which SNS caps at 256 KiB.
        'a field whose name is 300,000 characters, not naming it',
        { ...documentMessage, ['K'.repeat(300_000)]: 1 },
        /^invalid job message: body: 1 field\(s\) the contract does not have/,
      ],
    ])('dead-letters %s', async (_, body, reason) => {
      const world = createWorkerWorld();

      await world.handleRecord(jobRecord(body));

      expect(world.messages.deadLettered).toEqual([
        {
          body: expect.any(String),
          attributes: expect.any(Object),
          reason: expect.stringMatching(reason),
        },
      ]);
      expect(world.messages.deadLettered[0]!.reason.length).toBeLessThanOrEqual(1_001);
      expect(world.observer.invalidMessages).toHaveLength(1);
    });
  });

  describe('a retryable failure', () => {
    it('delays the retry by the base delay, queues the job again with the error and reports the failure', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('overloaded') });
      const record = jobRecord(documentMessage, { receiveCount: 1, receiptHandle: 'rh-1' });

      await expect(world.handleRecord(record)).rejects.toBeInstanceOf(ModelError);

      expect(world.messages.retries).toEqual([{ receiptHandle: 'rh-1', seconds: 30 }]);
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'queued',
        attempts: 1,
        error: { type: 'overloaded_error', message: 'the model is overloaded; try again shortly' },
      });
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.observer.failures).toBe(0);
      expect(world.observer.failedAttempts).toEqual([
        {
          jobId: JOB_ID,
          userId: USER_ID,
          receiveCount: 1,
          failure: {
            type: 'overloaded_error',
            message: 'the model is overloaded; try again shortly',
            retryable: true,
            deadLetter: false,
          },
          error: expect.any(ModelError),
        },
      ]);
    });

    it('waits longer on each delivery', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('rate_limited') });

      for (const receiveCount of [1, 2, 3, 4]) {
        await world
          .handleRecord(jobRecord(documentMessage, { receiveCount }))
          .catch(() => undefined);
      }

      expect(world.messages.retries.map((r) => r.seconds)).toEqual([30, 60, 120, 240]);
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'queued',
        attempts: 4,
      });
    });

    it('doubles from the configured base delay', async () => {
      const world = createWorkerWorld({
        model: alwaysFailing('timeout'),
        limits: { jobRetryBaseSeconds: 5 },
      });

      await expect(
        world.handleRecord(jobRecord(documentMessage, { receiveCount: 3 })),
      ).rejects.toThrow();

      expect(world.messages.retries.map((r) => r.seconds)).toEqual([20]);
    });

    it('on the last delivery dead-letters the job and makes the message visible at once for the redrive policy', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('overloaded') });
      const record = jobRecord(documentMessage, {
        receiveCount: LAST_ATTEMPT,
        receiptHandle: 'rh-5',
      });

      await expect(world.handleRecord(record)).rejects.toBeInstanceOf(ModelError);

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'dead_lettered',
        error: { type: 'overloaded_error', message: 'the model is overloaded; try again shortly' },
        updatedAt: world.clock.iso(),
      });
      expect(world.events.published).toEqual([
        expect.objectContaining({ type: 'job.ended', status: 'dead_lettered' }),
      ]);
      expect(world.messages.retries).toEqual([{ receiptHandle: 'rh-5', seconds: 0 }]);
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.observer.failures).toBe(1);
    });

    it('treats a delivery counted past the limit as the last one', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('overloaded') });

      await expect(
        world.handleRecord(jobRecord(documentMessage, { receiveCount: LAST_ATTEMPT + 2 })),
      ).rejects.toThrow();

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'dead_lettered' });
      expect(world.messages.retries.map((r) => r.seconds)).toEqual([0]);
    });

    it('records an unexpected error on the job without its internal details', async () => {
      const model: Model = {
        openStream: () => Promise.reject(new TypeError('socket 10.0.0.7 reset')),
        complete: () => Promise.reject(new TypeError('socket 10.0.0.7 reset')),
      };
      const world = createWorkerWorld({ model });

      await expect(
        world.handleRecord(jobRecord(documentMessage, { receiveCount: LAST_ATTEMPT })),
      ).rejects.toBeInstanceOf(TypeError);

      expect((await world.jobs.get(USER_ID, JOB_ID))?.error).toEqual({
        type: 'api_error',
        message: 'the job failed unexpectedly',
      });
    });
  });

  describe('a budget held by calls in flight', () => {
    it('retries the job, for they settle and give back what they do not spend (it failed for good)', async () => {
      const world = createWorkerWorld({
        model: [{ kind: 'answer', chunks: ['Q3 memo.'] }],
        limits: { userMonthlyBudgetUsd: 1 },
      });
      const inFlight = await world.ledger.reserve({
        userId: USER_ID,
        amountNanoUsd: 999_999_000,
        userDefaultBudgetNanoUsd: 1_000_000_000,
        globalBudgetNanoUsd: 1_000_000_000_000,
        nowMs: world.clock.nowMs,
        expiresAtMs: world.clock.nowMs + 600_000,
      });
      const record = jobRecord(documentMessage, { receiveCount: 1, receiptHandle: 'rh-1' });

      await expect(world.handleRecord(record)).rejects.toBeInstanceOf(BudgetExceededError);
      await world.ledger.settle(inFlight, { usage: ZERO_USAGE, costNanoUsd: 1_000 });
      await world.handleRecord({ ...record, receiptHandle: 'rh-2' });

      expect(world.messages.retries).toEqual([{ receiptHandle: 'rh-1', seconds: 300 }]);
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'succeeded',
        result: { summary: 'Q3 memo.' },
      });
    });

    it('fails the job on the last delivery, without paging anyone from the dead-letter queue', async () => {
      const world = createWorkerWorld({ limits: { userMonthlyBudgetUsd: 1 } });
      await world.ledger.reserve({
        userId: USER_ID,
        amountNanoUsd: 999_999_000,
        userDefaultBudgetNanoUsd: 1_000_000_000,
        globalBudgetNanoUsd: 1_000_000_000_000,
        nowMs: world.clock.nowMs,
        expiresAtMs: world.clock.nowMs + 25 * 3_600_000,
      });
      const last = jobRecord(documentMessage, {
        receiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
        receiptHandle: 'rh-5',
      });

      await world.handleRecord(last);

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'failed',
        error: { type: 'billing_error' },
      });
      expect(world.messages.retries).toEqual([]);
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.events.published).toEqual([
        expect.objectContaining({ type: 'job.ended', status: 'failed' }),
      ]);
    });
  });

  describe('a failure that retrying cannot fix', () => {
    it('fails a job over budget as billing_error, without calling the model, retrying or dead-lettering', async () => {
      const world = createWorkerWorld({ limits: { userMonthlyBudgetUsd: 0.000_001 } });

      await world.handleRecord(jobRecord(documentMessage, { receiveCount: 1 }));

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'failed',
        error: { type: 'billing_error', message: expect.stringContaining('monthly budget') },
      });
      expect((world.model as ScriptedModel).requests).toHaveLength(0);
      expect(world.messages.retries).toEqual([]);
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.observer.failures).toBe(1);
      expect(world.observer.failedAttempts[0]?.error).toBeInstanceOf(BudgetExceededError);
    });

    it('dead-letters a job whose request the model rejects, its message with its attributes', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('invalid_request') });
      const record = jobRecord(documentMessage, { receiveCount: 1 });

      await world.handleRecord(record);

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'dead_lettered',
        error: { type: 'invalid_request_error', message: 'the model rejected the request' },
      });
      expect(world.messages.deadLettered).toEqual([
        {
          body: record.body,
          attributes: { type: expect.objectContaining({ stringValue: 'summarize.document' }) },
          reason: 'invalid_request_error: the model rejected the request',
        },
      ]);
      expect(world.events.published).toEqual([
        expect.objectContaining({ type: 'job.ended', status: 'dead_lettered' }),
      ]);
      expect(world.messages.retries).toEqual([]);
      expect(world.observer.failures).toBe(1);
    });

    it('runs a dead-lettered job again when its message comes back (a redrive)', async () => {
      const world = createWorkerWorld({
        model: [
          { kind: 'fail-before', error: 'invalid_request' },
          { kind: 'answer', chunks: ['Q3 memo.'] },
        ],
      });
      await world.handleRecord(jobRecord(documentMessage, { receiveCount: 1 }));
      world.clock.advance(60_000);

      await world.handleRecord(
        jobRecord(documentMessage, { receiveCount: 1, sentAtMs: world.clock.nowMs }),
      );

      expect((world.model as ScriptedModel).requests).toHaveLength(2);
      expect(world.observer.redrives).toEqual([{ jobId: JOB_ID, userId: USER_ID }]);
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        result: { summary: 'Q3 memo.' },
      });
      expect(await world.jobs.get(USER_ID, JOB_ID)).not.toHaveProperty('error');
      expect(
        world.events.published.map((event) => event.type === 'job.ended' && event.status),
      ).toEqual(['dead_lettered', 'succeeded']);
    });

    it('drops a copy of a dead-lettered job sent before it was dead-lettered: a duplicate, not a redrive', async () => {
      const world = createWorkerWorld({ model: alwaysFailing('invalid_request') });
      const sentAtMs = world.clock.nowMs;
      await world.handleRecord(jobRecord(documentMessage, { sentAtMs }));
      world.clock.advance(30_000);

      await world.handleRecord(jobRecord(documentMessage, { sentAtMs, messageId: 'msg-copy' }));

      expect((world.model as ScriptedModel).requests).toHaveLength(1);
      expect(world.observer.redrives).toEqual([]);
      expect(world.observer.endedAlready).toEqual([
        { jobId: JOB_ID, userId: USER_ID, status: 'dead_lettered', receiveCount: 1 },
      ]);
      expect(world.events.published).toHaveLength(1);
    });

    it('publishes a succeeded job end again for its message sent since, not for a copy sent before', async () => {
      const world = createWorkerWorld({ model: [{ kind: 'answer', chunks: ['Q3 memo.'] }] });
      const sentAtMs = world.clock.nowMs;
      await world.handleRecord(jobRecord(documentMessage, { sentAtMs }));
      world.clock.advance(30_000);

      await world.handleRecord(jobRecord(documentMessage, { sentAtMs, messageId: 'msg-copy' }));
      expect(world.events.published).toHaveLength(1);
      await world.handleRecord(
        jobRecord(documentMessage, { sentAtMs: world.clock.nowMs, messageId: 'msg-again' }),
      );

      expect((world.model as ScriptedModel).requests).toHaveLength(1);
      const [first, again] = world.events.published;
      expect(again).toEqual({ ...first, at: expect.any(String) });
      expect(again).toMatchObject({ status: 'succeeded', result: { summary: 'Q3 memo.' } });
    });

    it('fails a document job Claude refused to summarize, keeping no summary and paging no one', async () => {
      const world = createWorkerWorld({
        model: [{ kind: 'answer', chunks: ['I can'], stopReason: 'refusal' }],
      });

      await world.handleRecord(jobRecord(documentMessage));

      const job = await world.jobs.get(USER_ID, JOB_ID);
      expect(job).toMatchObject({ status: 'failed', error: { type: 'refusal' } });
      expect(job?.result).toBeUndefined();
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.events.published).toMatchObject([{ type: 'job.ended', status: 'failed' }]);
    });

    it('pays for no further round of a long document once Claude refused one of its parts', async () => {
      const model = new ScriptedModel((request) =>
        promptOf(request).includes('Section 1:')
          ? { kind: 'answer', chunks: ['I cannot'], stopReason: 'refusal' }
          : { kind: 'answer', chunks: ['Part summary.'] },
      );
      const world = createWorkerWorld({ model });

      await world.handleRecord(jobRecord({ ...documentMessage, text: sections(3) }));

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'failed',
        error: { type: 'refusal' },
      });
      // The three parts, and no summary of their summaries: it would be thrown away.
      expect(model.requests).toHaveLength(3);
    });

    it('drops the message of a job that failed for good when it comes again, saying it ended', async () => {
      const world = createWorkerWorld({ limits: { userMonthlyBudgetUsd: 0.000_001 } });
      await world.handleRecord(jobRecord(documentMessage, { receiveCount: 1 }));

      await world.handleRecord(jobRecord(documentMessage, { receiveCount: 1 }));

      expect(world.observer.failures).toBe(1);
      expect(world.observer.redrives).toEqual([]);
      expect(world.observer.endedAlready).toEqual([
        { jobId: JOB_ID, userId: USER_ID, status: 'failed', receiveCount: 1 },
      ]);
    });

    it('runs a job that failed for good again when its message is sent anew, as POST /v1/jobs does (it was dropped)', async () => {
      const world = createWorkerWorld({
        model: [{ kind: 'answer', chunks: ['Q3 memo.'] }],
        limits: { userMonthlyBudgetUsd: 0.000_001 },
      });
      await world.handleRecord(jobRecord(documentMessage, { sentAtMs: world.clock.nowMs }));
      await world.ledger.setUserBudgetOverride(USER_ID, 10, world.clock.nowMs);
      world.clock.advance(60_000);

      await world.handleRecord(
        jobRecord(documentMessage, { sentAtMs: world.clock.nowMs, messageId: 'msg-again' }),
      );

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'succeeded',
        result: { summary: 'Q3 memo.' },
      });
      expect(
        world.events.published.map((event) => event.type === 'job.ended' && event.status),
      ).toEqual(['failed', 'succeeded']);
    });

    it('keeps a job cancelled when the message POST /v1/jobs asked for it with comes after the cancel, and runs one asked for since', async () => {
      const world = createWorkerWorld({ model: [{ kind: 'answer', chunks: ['Q3 memo.'] }] });
      const askedAt = (ms: number) => ({
        type: { dataType: 'String', stringValue: 'summarize.document' },
        askedAt: { dataType: 'String', stringValue: new Date(ms).toISOString() },
      });
      const askedMs = world.clock.nowMs;
      await world.jobs.create(
        { jobId: JOB_ID, userId: USER_ID, type: 'summarize.document' },
        new Date(askedMs).toISOString(),
      );
      world.clock.advance(1_000);
      await world.jobs.cancel(USER_ID, JOB_ID, new Date(world.clock.nowMs).toISOString());
      world.clock.advance(1_000);

      // Sent after the cancel, asked for before it: the cancel stands.
      await world.handleRecord(
        jobRecord(documentMessage, { sentAtMs: world.clock.nowMs, attributes: askedAt(askedMs) }),
      );
      // A producer's askedAt cannot make its message later than it was sent.
      await world.handleRecord(
        jobRecord(documentMessage, {
          sentAtMs: askedMs,
          messageId: 'msg-early',
          attributes: askedAt(world.clock.nowMs + 60_000),
        }),
      );
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'cancelled' });
      expect((world.model as ScriptedModel).requests).toHaveLength(0);

      await world.handleRecord(
        jobRecord(documentMessage, {
          sentAtMs: world.clock.nowMs,
          messageId: 'msg-again',
          attributes: askedAt(world.clock.nowMs),
        }),
      );
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'succeeded' });
    });

    it('fails a compaction of a conversation that does not exist, without dead-lettering it', async () => {
      const world = createWorkerWorld();
      const record = jobRecord({
        type: 'summarize.conversation',
        jobId: JOB_ID,
        userId: USER_ID,
        conversationId: CONVERSATION_ID,
      });

      await world.handleRecord(record);

      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({
        status: 'failed',
        error: { type: 'not_found_error' },
      });
      expect(world.messages.deadLettered).toEqual([]);
      expect(world.messages.retries).toEqual([]);
    });

    it('fails a job naming a model with no price and dead-letters it, without retrying', async () => {
      const world = createWorkerWorld();
      const record = jobRecord({ ...documentMessage, model: 'no-such-model' }, { receiveCount: 1 });

      await world.handleRecord(record);

      expect(world.messages.retries).toEqual([]);
      expect(await world.jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'dead_lettered' });
      expect(world.messages.deadLettered).toEqual([
        {
          body: record.body,
          attributes: record.messageAttributes,
          reason: expect.stringContaining('no-such-model'),
        },
      ]);
      expect(world.events.published).toEqual([
        expect.objectContaining({ type: 'job.ended', status: 'dead_lettered' }),
      ]);
    });
  });

  describe('a duplicate delivered while the first copy runs', () => {
    const inProgress = () =>
      handlerWith(async () => {
        throw new IdempotencyAlreadyInProgressError('job_… is already in progress');
      });

    it('is retried after 30 seconds, without failing the job or reporting a failed attempt', async () => {
      const { handleRecord, jobs, messages, observer } = inProgress();

      await expect(
        handleRecord(jobRecord(documentMessage, { receiptHandle: 'rh-dup' })),
      ).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);

      expect(messages.retries).toEqual([{ receiptHandle: 'rh-dup', seconds: 30 }]);
      expect(await jobs.get(USER_ID, JOB_ID)).toMatchObject({ status: 'queued' });
      expect(observer.failedAttempts).toEqual([]);
      expect(messages.deadLettered).toEqual([]);
    });

    it('looks again about when the running copy must have ended, its invocation as long as this one: every 30 s spent its receives', async () => {
      const { handleRecord, messages } = inProgress();
      const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 600_000 };

      await expect(
        handleRecord(jobRecord(documentMessage), context as Context),
      ).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);

      expect(messages.retries.map((retry) => retry.seconds)).toEqual([601]);
    });

    it('does not fail the job on the last delivery: the first copy may still succeed', async () => {
      const { handleRecord, observer, messages } = inProgress();

      await expect(
        handleRecord(jobRecord(documentMessage, { receiveCount: LAST_ATTEMPT })),
      ).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);

      expect(observer.failures).toBe(0);
      expect(messages.retries.map((r) => r.seconds)).toEqual([30]);
    });
  });

  describe('a failure of its own, outside the job', () => {
    const denied = () =>
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });

    it('reports a table that fails before the job runs, with the job and user the message names, and hands the message back to SQS', async () => {
      const world = createWorkerWorld();
      world.jobs.create = () => Promise.reject(denied());

      await expect(
        world.handleRecord(jobRecord(documentMessage, { receiveCount: 2 })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });

      expect(world.observer.recordFailures).toEqual([
        {
          messageId: expect.any(String),
          jobId: JOB_ID,
          userId: USER_ID,
          receiveCount: 2,
          error: expect.any(Error),
        },
      ]);
    });

    it('names the job by the id its content gives when the message names none (a job asked for without a jobId)', async () => {
      const world = createWorkerWorld();
      world.jobs.create = () => Promise.reject(denied());
      const { jobId: _, ...withoutId } = documentMessage;

      await expect(world.handleRecord(jobRecord(withoutId))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });

      expect(world.observer.recordFailures).toEqual([
        expect.objectContaining({ jobId: jobIdOf(withoutId), userId: USER_ID }),
      ]);
    });

    it("reports a queue that fails to delay a retry, beside the job's failed attempt", async () => {
      const world = createWorkerWorld({ model: alwaysFailing('overloaded') });
      world.messages.delayRetry = () => Promise.reject(denied());

      await expect(world.handleRecord(jobRecord(documentMessage))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });

      expect(world.observer.failedAttempts).toHaveLength(1);
      expect(world.observer.recordFailures).toHaveLength(1);
    });

    it("does not report a job's own failed attempt again, nor a duplicate still running", async () => {
      const world = createWorkerWorld({ model: alwaysFailing('overloaded') });
      await expect(world.handleRecord(jobRecord(documentMessage))).rejects.toBeInstanceOf(
        ModelError,
      );
      const { handleRecord, observer } = handlerWith(async () => {
        throw new IdempotencyAlreadyInProgressError('job_… is already in progress');
      });
      await expect(handleRecord(jobRecord(documentMessage))).rejects.toBeInstanceOf(
        IdempotencyAlreadyInProgressError,
      );

      expect(world.observer.recordFailures).toEqual([]);
      expect(observer.recordFailures).toEqual([]);
    });
  });
});
