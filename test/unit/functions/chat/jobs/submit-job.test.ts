import { describe, expect, it } from 'vitest';
import { createJobSubmission } from '../../../../../functions/chat/jobs/submit-job.js';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionError,
  ValidationError,
} from '../../../../../shared/domain/errors.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';
import { compactionJobId, jobIdOf } from '../../../../../shared/jobs/job-id.js';
import { InMemoryJobStore } from '../../../../fakes/in-memory-job-store.js';
import { RecordingJobQueue } from '../../../../fakes/recording-job-queue.js';

const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');
const NOW_ISO = new Date(NOW_MS).toISOString();
const MAX_DOCUMENT_BYTES = 100;

function submissionFixture(options: { maxMessageBytes?: number } = {}) {
  const jobs = new InMemoryJobStore();
  const queue = new RecordingJobQueue(options.maxMessageBytes);
  const submit = createJobSubmission({
    jobs,
    queue,
    clock: () => NOW_MS,
    prices: new PriceTable(),
    limits: {
      maxDocumentBytes: MAX_DOCUMENT_BYTES,
      models: new Set(['claude-sonnet-4-6', 'claude-haiku-4-5']),
      defaultModel: 'claude-sonnet-4-6',
    },
  });
  return { jobs, queue, submit };
}

const DOCUMENT = { userId: 'alice', text: 'A short report about cats.' };

describe('job submission', () => {
  it('creates a queued job and sends the document to the worker under its id', async () => {
    const { jobs, queue, submit } = submissionFixture();

    const submitted = await submit({
      ...DOCUMENT,
      instructions: 'One line.',
      model: 'claude-haiku-4-5',
    });

    expect(submitted).toEqual({
      jobId: expect.stringMatching(/^job_[a-f0-9]{32}$/),
      status: 'queued',
    });
    expect(queue.sent).toEqual([
      {
        type: 'summarize.document',
        ...DOCUMENT,
        instructions: 'One line.',
        model: 'claude-haiku-4-5',
        jobId: submitted.jobId,
      },
    ]);
    expect(await jobs.get('alice', submitted.jobId)).toMatchObject({
      type: 'summarize.document',
      status: 'queued',
      createdAt: NOW_ISO,
    });
  });

  it('accepts a document of exactly the byte limit, counted in UTF-8', async () => {
    const { queue, submit } = submissionFixture();

    await submit({ userId: 'alice', text: 'é'.repeat(MAX_DOCUMENT_BYTES / 2) });

    expect(queue.sent).toHaveLength(1);
  });

  it('refuses a document past the byte limit with PayloadTooLargeError, queueing nothing', async () => {
    const { queue, submit } = submissionFixture();
    // 51 characters, 102 bytes.
    const text = 'é'.repeat(MAX_DOCUMENT_BYTES / 2 + 1);

    const attempt = submit({ userId: 'alice', text });

    await expect(attempt).rejects.toThrow(PayloadTooLargeError);
    await expect(attempt).rejects.toThrow(`${MAX_DOCUMENT_BYTES} bytes`);
    expect(queue.sent).toEqual([]);
  });

  it.each([
    ['there is that is not allowed with ValidationError', 'claude-opus-4-5', ValidationError],
    ['there is not (neither allowed nor priced) with NotFoundError', 'gpt-4', NotFoundError],
  ])('refuses a model %s, recording and queueing nothing', async (_, model, refusal) => {
    const { jobs, queue, submit } = submissionFixture();

    const attempt = submit({ ...DOCUMENT, model });

    await expect(attempt).rejects.toThrow(refusal);
    await expect(attempt).rejects.toThrow(`"${model}"`);
    expect(queue.sent).toEqual([]);
    expect((await jobs.list('alice', { limit: 10 })).items).toEqual([]);
  });

  it('makes the same document twice one job, sent again while it is still queued', async () => {
    const { queue, submit } = submissionFixture();

    const first = await submit(DOCUMENT);
    const second = await submit(DOCUMENT);

    expect(second).toEqual(first);
    expect(queue.sent.map((message) => message.jobId)).toEqual([first.jobId, first.jobId]);
  });

  it.each([
    [
      'running',
      (jobs: InMemoryJobStore, jobId: string) => jobs.markRunning('alice', jobId, NOW_ISO),
    ],
    [
      'succeeded',
      (jobs: InMemoryJobStore, jobId: string) =>
        jobs.markSucceeded(
          'alice',
          jobId,
          {
            summary: 'Cats.',
            usage: {
              inputTokens: 1,
              outputTokens: 1,
              cacheReadInputTokens: 0,
              cacheCreationInputTokens: 0,
            },
            costNanoUsd: 1,
          },
          NOW_ISO,
        ),
    ],
    [
      // A redrive runs it again, not a repeat.
      'dead_lettered',
      (jobs: InMemoryJobStore, jobId: string) =>
        jobs.markFailed(
          'alice',
          jobId,
          { status: 'dead_lettered', error: { type: 'overloaded_error', message: 'busy' } },
          NOW_ISO,
        ),
    ],
    [
      // Its message waits on the queue for its retry.
      'queued',
      async (jobs: InMemoryJobStore, jobId: string) => {
        await jobs.markRunning('alice', jobId, NOW_ISO);
        await jobs.markRetrying(
          'alice',
          jobId,
          { type: 'overloaded_error', message: 'busy' },
          NOW_ISO,
        );
      },
    ],
  ] as const)('does not send the same document again once its job is %s', async (status, mark) => {
    const { jobs, queue, submit } = submissionFixture();
    const { jobId } = await submit(DOCUMENT);
    await mark(jobs, jobId);

    const repeat = await submit(DOCUMENT);

    expect(repeat).toEqual({ jobId, status });
    expect(queue.sent).toHaveLength(1);
  });

  it('makes another job of other instructions, another model or another user', async () => {
    const { submit } = submissionFixture();

    const ids = await Promise.all([
      submit(DOCUMENT),
      submit({ ...DOCUMENT, instructions: 'In French.' }),
      submit({ ...DOCUMENT, model: 'claude-haiku-4-5' }),
      submit({ ...DOCUMENT, userId: 'bob' }),
    ]);

    expect(new Set(ids.map((submitted) => submitted.jobId)).size).toBe(4);
  });

  it('records no job when the queue refuses the message as too large once encoded', async () => {
    // Within the document limit as text; over the queue's once each \u0001 is escaped.
    const { jobs, queue, submit } = submissionFixture({ maxMessageBytes: 300 });
    const text = '\u0001'.repeat(60);

    await expect(submit({ userId: 'alice', text })).rejects.toBeInstanceOf(PayloadTooLargeError);

    expect(queue.sent).toEqual([]);
    const jobId = jobIdOf({ type: 'summarize.document', userId: 'alice', text });
    expect(await jobs.get('alice', jobId)).toBeUndefined();
  });

  it('runs a job that failed, or was cancelled, again when it is asked for again', async () => {
    const { jobs, queue, submit } = submissionFixture();
    const failed = await submit(DOCUMENT);
    const ending = { status: 'failed' as const, error: { type: 'billing_error', message: 'no' } };
    await jobs.markRunning('alice', failed.jobId, NOW_ISO);
    await jobs.markFailed('alice', failed.jobId, ending, NOW_ISO);
    const cancelled = await submit({ ...DOCUMENT, text: 'Another.' });
    await jobs.cancel('alice', cancelled.jobId, NOW_ISO);

    const retried = await submit(DOCUMENT);
    const resumed = await submit({ ...DOCUMENT, text: 'Another.' });

    expect([retried, resumed]).toEqual([
      { jobId: failed.jobId, status: 'queued' },
      { jobId: cancelled.jobId, status: 'queued' },
    ]);
    expect(queue.sent.map((message) => message.jobId)).toEqual([
      failed.jobId,
      cancelled.jobId,
      failed.jobId,
      cancelled.jobId,
    ]);
    expect(await jobs.get('alice', failed.jobId)).toMatchObject({ status: 'queued', attempts: 1 });
  });

  it('leaves a job that failed as it was when its message cannot be sent again', async () => {
    const { jobs, queue, submit } = submissionFixture();
    const { jobId } = await submit(DOCUMENT);
    const ending = { status: 'failed' as const, error: { type: 'billing_error', message: 'no' } };
    await jobs.markFailed('alice', jobId, ending, NOW_ISO);
    queue.send = async () => {
      throw new Error('the queue is down');
    };

    await expect(submit(DOCUMENT)).rejects.toThrow('the queue is down');

    expect(await jobs.get('alice', jobId)).toMatchObject(ending);
  });

  it("holds an API key to its models, the default model included, and queues the key's id for the worker to hold the job to", async () => {
    const { queue, submit } = submissionFixture();
    const apiKey = { id: `key_${'a'.repeat(32)}`, allowedModels: ['claude-haiku-4-5'] };

    const defaulted = submit({ userId: 'alice', text: 'A document.', apiKey });
    const allowed = await submit({
      userId: 'alice',
      text: 'A document.',
      model: 'claude-haiku-4-5',
      apiKey,
    });

    await expect(defaulted).rejects.toBeInstanceOf(PermissionError);
    expect(allowed.status).toBe('queued');
    expect(queue.sent).toEqual([expect.objectContaining({ apiKeyId: apiKey.id })]);
  });

  it('gives a document the same job id whichever key, or none, asks for it', async () => {
    const { queue, submit } = submissionFixture();
    const key = (id: string) => ({ id: `key_${id.repeat(32)}` });

    const ids = [
      await submit(DOCUMENT),
      await submit({ ...DOCUMENT, apiKey: key('a') }),
      await submit({ ...DOCUMENT, apiKey: key('b') }),
    ].map((submitted) => submitted.jobId);

    expect(new Set(ids).size).toBe(1);
    expect(queue.sent.map((message) => message.jobId)).toEqual(ids);
  });

  describe("the caller's own job id and priority", () => {
    it('queues the job under the id the caller chose, with its content hash and priority', async () => {
      const { jobs, queue, submit } = submissionFixture();

      const submitted = await submit({ ...DOCUMENT, jobId: 'report-7', priority: 'batch' });

      expect(submitted).toEqual({ jobId: 'report-7', status: 'queued' });
      expect(queue.sent).toEqual([
        { type: 'summarize.document', ...DOCUMENT, jobId: 'report-7', priority: 'batch' },
      ]);
      expect(await jobs.get('alice', 'report-7')).toMatchObject({
        priority: 'batch',
        contentHash: expect.stringMatching(/^[a-f0-9]{64}$/),
      });
    });

    it('answers the same id with the same content as the same job', async () => {
      const { queue, submit } = submissionFixture();

      await submit({ ...DOCUMENT, jobId: 'report-7' });
      const again = await submit({ ...DOCUMENT, jobId: 'report-7' });

      expect(again).toEqual({ jobId: 'report-7', status: 'queued' });
      expect(queue.sent).toHaveLength(2);
    });

    it('refuses the same id with other content with a ConflictError, and sends nothing', async () => {
      const { queue, submit } = submissionFixture();
      await submit({ ...DOCUMENT, jobId: 'report-7' });

      await expect(
        submit({ ...DOCUMENT, text: 'Another report.', jobId: 'report-7' }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(queue.sent).toHaveLength(1);
    });

    it('refuses all but one of callers racing with one id and other contents', async () => {
      const { queue, submit } = submissionFixture();

      const outcomes = await Promise.allSettled(
        ['First.', 'Second.', 'Third.'].map((text) =>
          submit({ ...DOCUMENT, text, jobId: 'report-7' }),
        ),
      );

      const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const refused = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason] : [],
      );
      expect(accepted).toHaveLength(1);
      expect(refused).toHaveLength(2);
      for (const reason of refused) expect(reason).toBeInstanceOf(ConflictError);
      expect(queue.sent.map((message) => message.jobId)).toEqual(['report-7']);
    });

    it("takes an id of the form the service gives, a compaction's not yet asked for included, as the producer's own", async () => {
      const { jobs, queue, submit } = submissionFixture();
      const compactionId = compactionJobId(
        'alice',
        { id: `conv_${'c'.repeat(32)}`, createdAt: NOW_ISO },
        0,
        1,
      );

      await expect(submit({ ...DOCUMENT, jobId: compactionId })).resolves.toEqual({
        jobId: compactionId,
        status: 'queued',
      });
      expect((await jobs.get('alice', compactionId))?.type).toBe('summarize.document');
      expect(queue.sent.map((message) => message.jobId)).toEqual([compactionId]);
    });

    it('refuses the id the service gave another document with a ConflictError, as any id of other content', async () => {
      const { queue, submit } = submissionFixture();
      const first = await submit(DOCUMENT);

      await expect(
        submit({ ...DOCUMENT, text: 'Another report.', jobId: first.jobId }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(queue.sent).toHaveLength(1);
    });

    it('answers a document naming the id the service gave it as that job', async () => {
      const { queue, submit } = submissionFixture();
      const first = await submit(DOCUMENT);

      const again = await submit({ ...DOCUMENT, jobId: first.jobId });

      expect(again).toEqual(first);
      expect(queue.sent.map((message) => message.jobId)).toEqual([first.jobId, first.jobId]);
    });

    it('refuses an id a compaction holds, recorded without a content hash, with a ConflictError', async () => {
      const { jobs, queue, submit } = submissionFixture();
      await jobs.create(
        { jobId: 'report-7', userId: 'alice', type: 'summarize.conversation' },
        NOW_ISO,
      );

      await expect(submit({ ...DOCUMENT, jobId: 'report-7' })).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(queue.sent).toEqual([]);
    });

    it('gives a standard document the id it always had, and a batch one another', async () => {
      const { submit } = submissionFixture();

      const standard = await submit({ ...DOCUMENT, priority: 'standard' });
      const batch = await submit({ ...DOCUMENT, priority: 'batch' });

      expect(standard.jobId).toBe(jobIdOf({ type: 'summarize.document', ...DOCUMENT }));
      expect(batch.jobId).not.toBe(standard.jobId);
    });
  });
});
