import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import type { JobEndedEvent } from '../../shared/events/producer-events.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** The jobs API with no worker running: every job stays queued until cancelled. */
describe('the jobs API', () => {
  let stack: TestStack;
  let events: TopicSubscriber;
  beforeAll(async () => {
    stack = await startTestStack();
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `jobs-api-events-${Date.now()}`,
    });
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  const submit = async (userId: string, body: Record<string, unknown>) => {
    const response = await stack.request(userId, 'POST', '/v1/jobs', {
      type: 'summarize',
      ...body,
    });
    expect(response.status).toBe(202);
    return json(response);
  };

  it("lists the caller's jobs newest first, page by page, and by status", async () => {
    for (let i = 0; i < 3; i++)
      await submit('lister', { text: `Document ${i}.`, jobId: `doc-${i}` });
    await submit('someone-else', { text: 'Not yours.' });

    const first = await json(await stack.request('lister', 'GET', '/v1/jobs?limit=2'));
    expect(first.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(['doc-2', 'doc-1']);
    expect(first.jobs[0]).toMatchObject({
      status: 'queued',
      type: 'summarize.document',
      attempts: 0,
    });
    const second = await json(
      await stack.request(
        'lister',
        'GET',
        `/v1/jobs?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`,
      ),
    );
    expect(second.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(['doc-0']);

    await stack.request('lister', 'POST', '/v1/jobs/doc-1/cancel');
    const cancelled = await json(await stack.request('lister', 'GET', '/v1/jobs?status=cancelled'));
    expect(cancelled.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(['doc-1']);
    expect((await stack.request('lister', 'GET', '/v1/jobs?status=lost')).status).toBe(400);
  });

  it('cancels a queued job, publishes its end once, and answers a repeat with the job as it is', async () => {
    await submit('canceller', { text: 'To be cancelled.', jobId: 'report:2026-11' });

    const response = await stack.request('canceller', 'POST', '/v1/jobs/report:2026-11/cancel');

    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ jobId: 'report:2026-11', status: 'cancelled' });
    const { attributes } = await events.waitFor<JobEndedEvent>(
      (e) => e.jobId === 'report:2026-11',
      { timeoutMs: 10_000 },
    );
    expect(attributes).toEqual({ type: 'job.ended', status: 'cancelled', userId: 'canceller' });
    const again = await stack.request('canceller', 'POST', '/v1/jobs/report:2026-11/cancel');
    expect(again.status).toBe(200);
    // Read the subscription for a while: a second event would show up in `seen`.
    await events.waitFor(() => false, { timeoutMs: 1_500 }).catch(() => {});
    expect(
      events.seen.filter((d) => (d.event as JobEndedEvent).jobId === 'report:2026-11'),
    ).toHaveLength(1);
    expect((await stack.request('stranger', 'POST', '/v1/jobs/report:2026-11/cancel')).status).toBe(
      404,
    );
  });

  it("takes the caller's own job id and priority, and refuses that id for other content", async () => {
    const queued = await submit('owner', {
      text: 'Nightly numbers.',
      jobId: 'nightly',
      priority: 'batch',
    });
    expect(queued).toEqual({ jobId: 'nightly', status: 'queued' });
    expect(await json(await stack.request('owner', 'GET', '/v1/jobs/nightly'))).toMatchObject({
      priority: 'batch',
    });

    const conflict = await stack.request('owner', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'Other numbers.',
      jobId: 'nightly',
    });
    expect(conflict.status).toBe(409);
    // Dot-only ids are path segments: GET /v1/jobs/.. could never read the job.
    for (const jobId of ['no spaces/or slashes', '.', '..', '...']) {
      const invalid = await stack.request('owner', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: 'x',
        jobId,
      });
      expect(invalid.status, jobId).toBe(400);
    }
  });

  it('leaves a standard job standard when a refused request asks for a batch under its id', async () => {
    await submit('owner', { text: 'Daily numbers.', jobId: 'daily' });

    const conflict = await stack.request('owner', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'Daily numbers.',
      jobId: 'daily',
      priority: 'batch',
    });

    expect(conflict.status).toBe(409);
    const job = await json(await stack.request('owner', 'GET', '/v1/jobs/daily'));
    // It was marked batch (and its job.ended said so), though it ran and was billed standard.
    expect(job.priority).toBeUndefined();
  });

  it('accepts one of ten callers racing with one job id and ten contents, and refuses nine', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await stack.request('racer', 'POST', '/v1/jobs', {
          type: 'summarize',
          text: `Draft number ${i}.`,
          jobId: 'weekly',
        });
        return response.status;
      }),
    );

    expect(statuses.toSorted()).toEqual([202, ...Array(9).fill(409)]);
    // One message went to the worker: no refused caller's text is waiting to be dead-lettered.
    const sent: string[] = [];
    for (;;) {
      const { Messages = [] } = await stack.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) break;
      sent.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}').jobId));
    }
    expect(sent.filter((jobId) => jobId === 'weekly')).toHaveLength(1);
  });
});
