import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import type { JobEndedEvent, MessageRefusedEvent } from '../../shared/events/producer-events.js';
import { requestsMentioning } from './support/claude-requests.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * A backend producer as the README describes one: an SQS client that sends to the jobs
 * queue, and a queue of its own subscribed to the events topic. No token, no HTTP.
 */
describe('an event producer with only SQS and a topic subscription', () => {
  let stack: TestStack;
  let events: TopicSubscriber;
  let failures: TopicSubscriber;
  const producer = `producer-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: { JOB_RETRY_BASE_SECONDS: '1' } });
    const id = randomUUID().slice(0, 8);
    // Its own events only: a filter policy on the userId attribute.
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `producer-events-${id}`,
      filterPolicy: { userId: [producer] },
    });
    // What an alerting subscriber takes: ends that went wrong, anyone's.
    failures = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `producer-failures-${id}`,
      filterPolicy: { type: ['job.ended'], status: ['failed', 'dead_lettered'] },
    });
  });
  afterAll(async () => {
    await events?.close();
    await failures?.close();
    await stack?.close();
  });

  const send = (body: unknown) =>
    stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  const endOf = (jobId: string) =>
    events.waitFor<JobEndedEvent>((e) => e.type === 'job.ended' && e.jobId === jobId, {
      timeoutMs: 45_000,
    });

  it('sends a job with its own id and receives its completion event, summary inline', async () => {
    const jobId = `invoice-2026-118:summary-${randomUUID().slice(0, 6)}`;

    await send({
      type: 'summarize.document',
      jobId,
      userId: producer,
      text: 'Invoice 118: 3 lines, $420 due.',
    });

    const { event, attributes } = await endOf(jobId);
    expect(attributes).toEqual({ type: 'job.ended', status: 'succeeded', userId: producer });
    expect(event).toMatchObject({
      version: 1,
      jobId,
      userId: producer,
      jobType: 'summarize.document',
      status: 'succeeded',
      result: { summary: expect.any(String) },
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      costUsd: expect.any(Number),
    });
    expect(event.costUsd).toBeGreaterThan(0);
  });

  it('processes a duplicate once: one model call, one event', async () => {
    const jobId = `dup-${randomUUID().slice(0, 8)}`;
    const text = `Sent twice, processed once ${jobId}.`;
    const message = { type: 'summarize.document', jobId, userId: producer, text };

    await Promise.all([send(message), send(message)]);
    await endOf(jobId);
    // The second copy is consumed within a poll or two.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const calls = requestsMentioning(stack.claude, text);
    expect(calls).toHaveLength(1);
    expect(
      events.seen.filter(
        (d) =>
          (d.event as JobEndedEvent).jobId === jobId &&
          (d.event as JobEndedEvent).type === 'job.ended',
      ),
    ).toHaveLength(1);
  });

  it('hears a succeeded job end again when it sends its message again: no second call', async () => {
    const jobId = `again-${randomUUID().slice(0, 8)}`;
    const text = `Asked twice, paid once ${jobId}.`;
    const message = { type: 'summarize.document', jobId, userId: producer, text };
    await send(message);
    const first = await endOf(jobId);

    await send(message);

    const again = await events.waitFor<JobEndedEvent>(
      (e) => e.type === 'job.ended' && e.jobId === jobId && e !== first.event,
      { timeoutMs: 45_000 },
    );
    expect(again.attributes).toEqual(first.attributes);
    expect(again.event).toEqual({ ...first.event, at: expect.any(String) });
    const calls = requestsMentioning(stack.claude, text);
    expect(calls).toHaveLength(1);
  });

  it('dead-letters a poison message at once and reports it, as it names a user and a job', async () => {
    const jobId = `poison-${randomUUID().slice(0, 8)}`;

    await send({ type: 'summarize.document', jobId, userId: producer, text: '' });

    const { event, attributes } = await endOf(jobId);
    expect(attributes.status).toBe('dead_lettered');
    expect(event.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/invalid job message: body\.text/),
    });
    await failures.waitFor<JobEndedEvent>((e) => e.jobId === jobId, { timeoutMs: 10_000 });
  });

  it('dead-letters a message naming a model of any length at once, and reports it, the job ending', async () => {
    const jobId = `long-model-${randomUUID().slice(0, 8)}`;

    await send({
      type: 'summarize.document',
      jobId,
      userId: producer,
      text: 'A short memo.',
      model: 'claude-'.repeat(60_000),
    });

    const { event } = await endOf(jobId);
    expect(event.status).toBe('dead_lettered');
    expect(event.error?.type).toBe('invalid_request_error');
    expect(JSON.stringify(event).length).toBeLessThan(2_000);
    const job = await stack.request(producer, 'GET', `/v1/jobs/${jobId}`);
    expect(job.status).toBe(404);
  });

  it("hears why Claude refused a document too long for it, from its end and from GET /v1/jobs/{id}: the lengths, not the API's words", async () => {
    const jobId = `too-long-${randomUUID().slice(0, 8)}`;

    await send({
      type: 'summarize.document',
      jobId,
      userId: producer,
      text: `A very long report. ${directive('fault=error-before status=400 prompt-tokens=215000')}`,
    });

    const { event } = await endOf(jobId);
    expect(event.status).toBe('dead_lettered');
    expect(event.error).toEqual({
      type: 'invalid_request_error',
      message:
        "the model rejected the request: the prompt is 215000 tokens, more than the model's 200000",
    });
    const job = await stack.request(producer, 'GET', `/v1/jobs/${jobId}`);
    expect(job.status).toBe(200);
    expect((await json(job)).error).toEqual(event.error);
  });

  it('refuses the same id with other content: dead-lettered, reported as refused, the first job kept', async () => {
    const jobId = `reused-${randomUUID().slice(0, 8)}`;
    await send({ type: 'summarize.document', jobId, userId: producer, text: 'The first content.' });
    await endOf(jobId);

    await send({ type: 'summarize.document', jobId, userId: producer, text: 'Other content.' });

    const { event, attributes } = await events.waitFor<MessageRefusedEvent>(
      (e) => e.jobId === jobId && e.type === 'message.refused',
      { timeoutMs: 30_000 },
    );
    expect(event.error.type).toBe('conflict_error');
    expect(attributes).toMatchObject({ type: 'message.refused', userId: producer });
    const job = await (await stack.request(producer, 'GET', `/v1/jobs/${jobId}`)).json();
    expect(job).toMatchObject({
      status: 'succeeded',
      conflict: { message: expect.stringContaining('other content') },
    });
  });

  it("passes an upstream retry-after on: the job is retried after it, through the message's visibility", async () => {
    const jobId = `throttled-${randomUUID().slice(0, 8)}`;
    const text = `Throttled ${directive(`fault=error-before status=429 retry-after=2 times=1 key=${jobId}`)}`;
    // No retry-after is waited in the function: it goes to the message's visibility (longer
    // than the back-off, 1 s here, which a shorter one would get).
    const limited = await startTestStack({
      worker: true,
      env: { MAX_RETRY_WAIT_MS: '0', JOB_RETRY_BASE_SECONDS: '1' },
    });
    const ends = await subscribeQueue(
      { sns: limited.sns, sqs: limited.sqs },
      limited.eventsTopicArn,
      {
        queueName: `throttled-events-${jobId}`,
      },
    );
    try {
      await limited.sqs.send(
        new SendMessageCommand({
          QueueUrl: limited.queueUrl,
          MessageBody: JSON.stringify({
            type: 'summarize.document',
            jobId,
            userId: producer,
            text,
          }),
        }),
      );
      const { event } = await ends.waitFor<JobEndedEvent>((e) => e.type === 'job.ended', {
        timeoutMs: 30_000,
      });
      expect(event.status).toBe('succeeded');
      const [first, second] = requestsMentioning(limited.claude, 'Throttled');
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_900);
    } finally {
      await ends.close();
      await limited.close();
    }
  });
});
