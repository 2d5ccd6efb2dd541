import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../functions/worker/job-errors.js';
import type { RecordedRequest } from '../../local-stack/local-claude/index.js';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { nanoToUsd, usdToNano } from '../../shared/domain/pricing/model-price.js';
import { PriceTable } from '../../shared/domain/pricing/price-table.js';
import type { JobEndedEvent } from '../../shared/events/producer-events.js';
import { openApiValidator } from '../support/openapi.js';
import { bodyText } from './support/claude-requests.js';
import { waitForJob } from './support/jobs.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;
/** An answer that streams for 40 s unless it is stopped. */
const SLOW = directive('tokens=2000 tps=50');

/**
 * `POST /v1/jobs/{id}/cancel` on a job that runs: its worker stops what it does upstream
 * (the local Claude sees its stream closed; a batch is cancelled through the Message Batches
 * API), bills what was generated, and ends the job `cancelled`, published once.
 */
describe('cancelling a running job', () => {
  let stack: TestStack;
  let events: TopicSubscriber;
  /** Job ids whose end, as the worker writes it, waits for their user's cancel first. */
  const cancelBeforeEnd = new Map<string, (status: number) => void>();
  /** Job ids whose retry, as the worker writes it, waits for their user's cancel first. */
  const cancelBeforeRetry = new Map<string, (status: number) => void>();
  /** Job ids whose failure, as the worker writes it, waits for their user's cancel first. */
  const cancelBeforeFailure = new Map<string, (status: number) => void>();
  /** Job ids whose first delivery, once it marked the job running, waits for their user's cancel. */
  const cancelAfterStart = new Map<string, (status: number) => void>();
  /** Batches whose next look fails for good (the job fails, its batch kept). */
  const failingLooks = new Set<string>();
  /** Job ids whose next delivery, as the worker reads the job, waits for their user's cancel first. */
  const cancelBeforeDelivery = new Map<string, (status: number) => void>();

  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: {
        DOCUMENT_CHUNK_TOKENS: '200',
        SUMMARY_CONCURRENCY: '1',
        JOB_RETRY_BASE_SECONDS: '1',
        MODEL_MAX_RETRIES: '0',
        BATCH_POLL_SECONDS: '1',
      },
      claude: { batchProcessingMs: 6_000 },
      customizeWorker: (adapters) => ({
        ...adapters,
        batches: Object.assign(Object.create(adapters.batches), {
          async check(...args: Parameters<typeof adapters.batches.check>) {
            if (failingLooks.delete(args[0])) {
              throw new PermanentJobError(
                'api_error',
                'the batch could not be read (a test)',
                false,
              );
            }
            return adapters.batches.check(...args);
          },
        }),
        jobs: Object.assign(Object.create(adapters.jobs), {
          async create(...args: Parameters<typeof adapters.jobs.create>) {
            const [{ userId, jobId }] = args;
            const cancelled = cancelBeforeDelivery.get(jobId);
            if (cancelled) {
              cancelBeforeDelivery.delete(jobId);
              cancelled((await cancel(userId, jobId)).status);
            }
            return adapters.jobs.create(...args);
          },
          async markRunning(...args: Parameters<typeof adapters.jobs.markRunning>) {
            const [userId, jobId] = args;
            const running = await adapters.jobs.markRunning(...args);
            const cancelled = cancelAfterStart.get(jobId);
            if (cancelled) {
              cancelAfterStart.delete(jobId);
              cancelled((await cancel(userId, jobId)).status);
            }
            return running;
          },
          async markSucceeded(...args: Parameters<typeof adapters.jobs.markSucceeded>) {
            const [userId, jobId] = args;
            const cancelled = cancelBeforeEnd.get(jobId);
            if (cancelled) {
              cancelBeforeEnd.delete(jobId);
              cancelled((await cancel(userId, jobId)).status);
            }
            return adapters.jobs.markSucceeded(...args);
          },
          async markRetrying(...args: Parameters<typeof adapters.jobs.markRetrying>) {
            const [userId, jobId] = args;
            const cancelled = cancelBeforeRetry.get(jobId);
            if (cancelled) {
              cancelBeforeRetry.delete(jobId);
              cancelled((await cancel(userId, jobId)).status);
            }
            return adapters.jobs.markRetrying(...args);
          },
          async markFailed(...args: Parameters<typeof adapters.jobs.markFailed>) {
            const [userId, jobId] = args;
            const cancelled = cancelBeforeFailure.get(jobId);
            if (cancelled) {
              cancelBeforeFailure.delete(jobId);
              cancelled((await cancel(userId, jobId)).status);
            }
            return adapters.jobs.markFailed(...args);
          },
        }),
      }),
    });
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `cancel-running-${randomUUID().slice(0, 8)}`,
      filterPolicy: { type: ['job.ended'] },
    });
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  const cancel = (userId: string, jobId: string) =>
    stack.request(userId, 'POST', `/v1/jobs/${jobId}/cancel`);
  const submit = async (userId: string, body: Record<string, unknown>) => {
    const response = await stack.request(userId, 'POST', '/v1/jobs', {
      type: 'summarize',
      ...body,
    });
    expect(response.status).toBe(202);
    return json(response);
  };
  const callsWith = (text: string) =>
    stack.claude.requests.filter(
      (r) => r.path === '/v1/messages' && JSON.stringify(r.body ?? null).includes(text),
    );
  async function until<T>(what: string, found: () => T | undefined, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = found();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
      await sleep(25);
    }
  }
  /** The job's `job.ended` events, after reading the subscription a while (a second would show). */
  async function endsOf(jobId: string) {
    await events.waitFor((e: JobEndedEvent) => e.jobId === jobId, { timeoutMs: 15_000 });
    await events.waitFor(() => false, { timeoutMs: 1_500 }).catch(() => {});
    return events.seen
      .map((d) => d.event as JobEndedEvent)
      .filter((event) => event.jobId === jobId);
  }
  /** Nothing left of the job's message: deleted, neither waiting for a retry nor dead-lettered. */
  async function expectQueuesEmpty() {
    const count = async (queueUrl: string) => {
      const { Attributes = {} } = await stack.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
    };
    expect(await count(stack.queueUrl)).toBe(0);
    expect(await count(stack.deadLetterQueueUrl)).toBe(0);
  }
  /** What the ledger holds and charged: no reservation left, the user's month the job's cost. */
  async function expectSettled(userId: string, costUsd: number) {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    expect(await ledger.listReservations()).toEqual([]);
    const usage = await json(await stack.request(userId, 'GET', '/v1/usage'));
    expect(usdToNano(usage.costUsd)).toBe(usdToNano(costUsd));
  }

  it('stops its Claude stream within two seconds, bills what was streamed, and ends it cancelled, published once', async () => {
    const userId = `stopper-${randomUUID().slice(0, 8)}`;
    const text = `A report to stop ${randomUUID()}. ${SLOW}`;
    const { jobId } = await submit(userId, { text });
    const call = await until('the call to stream', () =>
      callsWith(text).find((r) => r.outputTokensSent > 20),
    );

    const cancelled = await cancel(userId, jobId);
    const askedAt = Date.now();
    const again = await cancel(userId, jobId);

    expect(cancelled.status).toBe(202);
    const asked = await json(cancelled);
    expect(asked).toMatchObject({
      jobId,
      status: 'running',
      cancelRequestedAt: expect.any(String),
    });
    const document = await json(await fetch(`${stack.url}/openapi.json`));
    expect(openApiValidator(document).response('POST', '/v1/jobs/{id}/cancel', 202, asked)).toEqual(
      [],
    );
    expect(again.status).toBe(202);
    expect(await json(again)).toMatchObject({ cancelRequestedAt: asked.cancelRequestedAt });
    expect((await cancel('someone-else', jobId)).status).toBe(404);
    // The local Claude saw its client close the stream: generation stopped upstream.
    await until('the stream to close', () => call.aborted, 5_000);
    expect(Date.now() - askedAt).toBeLessThan(2_500);
    const sentUpstream = call.outputTokensSent;
    expect(sentUpstream).toBeLessThan(2000);

    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 10_000 });
    expect(job).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(job.result).toBeUndefined();
    expect(job.usage.inputTokens).toBeGreaterThan(0);
    // What was streamed, estimated from the text received (erring high), never the whole answer.
    expect(job.usage.outputTokens).toBeGreaterThanOrEqual(sentUpstream - 2);
    expect(job.usage.outputTokens).toBeLessThan(2000);
    const model = (call.body as { model: string }).model;
    expect(job.costUsd).toBe(nanoToUsd(new PriceTable().costNanoUsd(model, job.usage)));
    await expectSettled(userId, job.costUsd);
    const ends = await endsOf(jobId);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ status: 'cancelled', costUsd: job.costUsd, usage: job.usage });
    expect(callsWith(text)).toHaveLength(1);
    await expectQueuesEmpty();
    // Ended, it is cancelled: a repeat answers it as it is.
    expect((await cancel(userId, jobId)).status).toBe(200);
  });

  it("stops a long document's map-reduce mid-part: no further part nor the reduce is asked for", async () => {
    const userId = `mapper-${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    const section = (n: number, extra = '') =>
      `Section ${n} of ${marker}: ${'facts and figures '.repeat(30).trim()} ${extra}`;
    const text = [section(1, directive('tokens=5')), section(2, SLOW), section(3), section(4)].join(
      '\n\n',
    );
    const { jobId } = await submit(userId, { text });
    const secondPart = await until('the second part to stream', () =>
      callsWith(`Section 2 of ${marker}`).find((r) => r.outputTokensSent > 10),
    );

    expect((await cancel(userId, jobId)).status).toBe(202);

    await until('the second part to close', () => secondPart.aborted, 5_000);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 10_000 });
    expect(job).toMatchObject({
      status: 'cancelled',
      progress: { round: 1, partsDone: 1, partsTotal: 4 },
    });
    await sleep(1_500);
    const asked = stack.claude.requests.filter((r) =>
      JSON.stringify(r.body ?? null).includes(marker),
    );
    expect(asked.map(partOf)).toEqual([1, 2]);
    // The first part whole, the second what it streamed: more than the first alone.
    const firstPart = asked[0]!;
    expect(job.usage.outputTokens).toBeGreaterThan(firstPart.outputTokensSent);
    await expectSettled(userId, job.costUsd);
    expect(await endsOf(jobId)).toHaveLength(1);
    await expectQueuesEmpty();
  });

  it('ends a job cancelled as it finished cancelled, as its 202 said: never also succeeded', async () => {
    const userId = `late-${randomUUID().slice(0, 8)}`;
    const text = `A memo cancelled as it ends ${randomUUID()}.`;
    const cancelStatus = new Promise<number>((resolve) => {
      cancelBeforeEnd.set(jobIdOf(userId, text), resolve);
    });
    const { jobId } = await submit(userId, { text, jobId: jobIdOf(userId, text) });

    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId);
    expect(job).toMatchObject({ status: 'cancelled' });
    expect(job.result).toBeUndefined();
    expect(job.usage.outputTokens).toBeGreaterThan(0);
    await expectSettled(userId, job.costUsd);
    const ends = await endsOf(jobId);
    expect(ends.map((e) => e.status)).toEqual(['cancelled']);
    expect(ends[0]?.costUsd).toBe(job.costUsd);
    await expectQueuesEmpty();
  });

  it('answers 409 to a cancel that lands once the job succeeded, which stays succeeded', async () => {
    const userId = `after-${randomUUID().slice(0, 8)}`;
    const { jobId } = await submit(userId, { text: `A memo done first ${randomUUID()}.` });
    await waitForJob(stack, userId, jobId, { statuses: ['succeeded'] });

    const late = await cancel(userId, jobId);

    expect(late.status).toBe(409);
    expect((await json(late)).error.message).toMatch(/is succeeded/);
    const ends = await endsOf(jobId);
    expect(ends.map((e) => e.status)).toEqual(['succeeded']);
  });

  it('ends a job whose attempt failed (overloaded mid-answer) after its cancel, making no other call', async () => {
    const userId = `retried-${randomUUID().slice(0, 8)}`;
    const text = `Throttled once, then cancelled ${randomUUID()} ${directive('fault=error-mid after=3 type=overloaded_error')}`;
    const jobId = jobIdOf(userId, text);
    const cancelStatus = new Promise<number>((resolve) => cancelBeforeRetry.set(jobId, resolve));
    await submit(userId, { text, jobId });

    // Asked as the failed attempt hands the job back for its retry, which then finds it.
    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 15_000 });
    expect(job).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(callsWith(text)).toHaveLength(1);
    await expectSettled(userId, job.costUsd);
    expect(await endsOf(jobId)).toHaveLength(1);
    await expectQueuesEmpty();
  });

  it("ends a job whose attempt failed after its cancel at once, not after its retry's delay (its provider's retry-after)", async () => {
    const userId = `waiting-${randomUUID().slice(0, 8)}`;
    const text = `Throttled for 30 s, then cancelled ${randomUUID()} ${directive('fault=error-before status=429 retry-after=30')}`;
    const jobId = jobIdOf(userId, text);
    const cancelStatus = new Promise<number>((resolve) => cancelBeforeRetry.set(jobId, resolve));
    await submit(userId, { text, jobId });

    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 10_000 });
    expect(job).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(callsWith(text)).toHaveLength(1);
    // Refused before any token: nothing spent, nothing recorded.
    expect(job.costUsd).toBeUndefined();
    await expectSettled(userId, 0);
    expect((await endsOf(jobId)).map((end) => end.status)).toEqual(['cancelled']);
    await expectQueuesEmpty();
  });

  it('ends a job whose attempt failed for good after its cancel cancelled, as its 202 said: never also failed', async () => {
    const userId = `refused-${randomUUID().slice(0, 8)}`;
    const text = `Refused mid-answer, then cancelled ${randomUUID()} ${directive('fault=error-mid after=3 type=invalid_request_error')}`;
    const jobId = jobIdOf(userId, text);
    const cancelStatus = new Promise<number>((resolve) => cancelBeforeFailure.set(jobId, resolve));
    await submit(userId, { text, jobId });

    // Asked as the failed attempt writes the job's end.
    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 15_000 });
    expect(job).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(callsWith(text)).toHaveLength(1);
    await expectSettled(userId, job.costUsd);
    const ends = await endsOf(jobId);
    expect(ends.map((end) => end.status)).toEqual(['cancelled']);
    await expectQueuesEmpty();
  });

  it("cancels a batch job's batch upstream at its next look, then bills what the batch processed and ends it cancelled", async () => {
    const userId = `batcher-${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    const section = (n: number) =>
      `Section ${n} of ${marker}: ${'facts and figures '.repeat(30).trim()}`;
    const { jobId } = await submit(userId, {
      text: [section(1), section(2)].join('\n\n'),
      priority: 'batch',
    });
    const submitted = await waitForJob(stack, userId, jobId, {
      statuses: ['running'],
      also: (job) => 'batch' in job,
    });
    const { batchId } = (submitted as unknown as { batch: { batchId: string } }).batch;
    // Of its two requests, the first is processed 3 s after the batch was made, the second at 6 s.
    const created = stack.claude.requests.find((r) => r.path === '/v1/messages/batches')!;
    await sleep(Math.max(0, created.receivedAt + 3_500 - Date.now()));

    const asked = await cancel(userId, jobId);

    expect(asked.status).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 15_000 });
    expect(job).toMatchObject({ status: 'cancelled', priority: 'batch' });
    expect(job.batch).toBeUndefined();
    const cancels = stack.claude.requests.filter(
      (r) => r.path === `/v1/messages/batches/${batchId}/cancel`,
    );
    expect(cancels).toHaveLength(1);
    const results = await batchResults(batchId);
    expect(results.map((line) => line.result.type)).toEqual(['succeeded', 'canceled']);
    const done = results[0]!.result;
    if (done.type !== 'succeeded') throw new Error('not succeeded');
    expect(job.usage).toMatchObject({
      inputTokens: done.message.usage.input_tokens,
      outputTokens: done.message.usage.output_tokens,
    });
    const model = done.message.model;
    expect(usdToNano(job.costUsd)).toBe(new PriceTable().costNanoUsd(model, job.usage, 'batch'));
    // No other batch (the reduce round) was submitted.
    expect(stack.claude.requests.filter((r) => r.path === '/v1/messages/batches')).toHaveLength(1);
    await expectSettled(userId, job.costUsd);
    const ends = await endsOf(jobId);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ status: 'cancelled', priority: 'batch', costUsd: job.costUsd });
    await expectQueuesEmpty();
  });

  it('ends a batch job cancelled during its first delivery, before its batch is submitted, cancelled without submitting it (it submitted the batch, cancelled at its next look)', async () => {
    const userId = `unsubmitted-${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    const text = `Cancelled as it started ${marker}: ${'facts and figures '.repeat(30).trim()}`;
    const jobId = jobIdOf(userId, text);
    const cancelStatus = new Promise<number>((resolve) => cancelAfterStart.set(jobId, resolve));
    await submit(userId, { text, jobId, priority: 'batch' });

    // Asked while the job is running, before its batch is made.
    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 15_000 });
    expect(job).toMatchObject({ status: 'cancelled', priority: 'batch', attempts: 1 });
    expect(job.batch).toBeUndefined();
    expect(job.costUsd ?? 0).toBe(0);
    const batchesMade = stack.claude.requests.filter(
      (r) => r.path === '/v1/messages/batches' && JSON.stringify(r.body ?? null).includes(marker),
    );
    expect(batchesMade).toHaveLength(0);
    expect(callsWith(marker)).toHaveLength(0);
    await expectSettled(userId, 0);
    expect((await endsOf(jobId)).map((end) => end.status)).toEqual(['cancelled']);
    await expectQueuesEmpty();
  });

  it('cancels the batch of a failed batch job asked for again and cancelled before it runs, and bills what it processed', async () => {
    const userId = `again-${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    const section = (n: number) =>
      `Section ${n} of ${marker}: ${'facts and figures '.repeat(30).trim()}`;
    const body = { text: [section(1), section(2)].join('\n\n'), priority: 'batch' };
    const { jobId } = await submit(userId, body);
    const submitted = await waitForJob(stack, userId, jobId, {
      statuses: ['running'],
      also: (job) => 'batch' in job,
    });
    const { batchId } = (submitted as unknown as { batch: { batchId: string } }).batch;
    // Its next look fails for good: the job fails, keeping its batch, which runs on upstream.
    failingLooks.add(batchId);
    await waitForJob(stack, userId, jobId, { statuses: ['failed'] });
    const created = stack.claude.requests.find(
      (r) => r.path === '/v1/messages/batches' && bodyText(r).includes(marker),
    )!;
    await sleep(Math.max(0, created.receivedAt + 3_500 - Date.now()));
    // Asked for again, and cancelled as its message is delivered, before the job is read.
    const cancelStatus = new Promise<number>((resolve) => cancelBeforeDelivery.set(jobId, resolve));
    await submit(userId, body);

    expect(await cancelStatus).toBe(202);
    const job = await waitForJob(stack, userId, jobId, { timeoutMs: 15_000 });
    expect(job).toMatchObject({ status: 'cancelled', priority: 'batch' });
    expect(job.batch).toBeUndefined();
    expect(
      stack.claude.requests.filter((r) => r.path === `/v1/messages/batches/${batchId}/cancel`),
    ).toHaveLength(1);
    const results = await batchResults(batchId);
    expect(results.map((line) => line.result.type)).toEqual(['succeeded', 'canceled']);
    const done = results[0]!.result;
    if (done.type !== 'succeeded') throw new Error('not succeeded');
    expect(job.usage).toMatchObject({
      inputTokens: done.message.usage.input_tokens,
      outputTokens: done.message.usage.output_tokens,
    });
    expect(usdToNano(job.costUsd)).toBe(
      new PriceTable().costNanoUsd(done.message.model, job.usage, 'batch'),
    );
    await expectSettled(userId, job.costUsd);
    const ends = (await endsOf(jobId)).map((end) => end.status);
    expect(ends).toEqual(['failed', 'cancelled']);
    await expectQueuesEmpty();
  });

  async function batchResults(batchId: string) {
    const client = new Anthropic({ baseURL: stack.claude.url, apiKey: 'test' });
    const lines = [];
    for await (const line of await client.messages.batches.results(batchId)) lines.push(line);
    return lines;
  }
});

/** Which section of its document a part's call summarized. */
function partOf(request: RecordedRequest): number {
  return Number(/Section (\d+) of/.exec(bodyText(request))?.[1]);
}

/** A producer's job id of its own for the text: the test names it before submitting. */
function jobIdOf(userId: string, text: string): string {
  return `${userId}-${text.length}`;
}
