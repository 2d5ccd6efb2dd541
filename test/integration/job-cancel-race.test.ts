import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from './support/jobs.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const USER = 'racer';

/**
 * A user racing themselves: `POST /v1/jobs` records the job queued, then sends its message; a
 * cancel of theirs can land in between. The stack's own queue sends the message, after the
 * user's cancel (made through the API, as theirs would be) where a test asks for one.
 */
describe('a cancel landing between POST /v1/jobs recording the job and sending its message', () => {
  let stack: TestStack;
  /** Job ids whose next send waits for their user's cancel first. */
  const cancelFirst = new Set<string>();

  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      customizeChat: (adapters) => ({
        ...adapters,
        queue: {
          async send(message, options) {
            if (cancelFirst.delete(message.jobId)) {
              const cancel = await stack.request(USER, 'POST', `/v1/jobs/${message.jobId}/cancel`);
              expect(cancel.status).toBe(200);
            }
            return adapters.queue.send(message, options);
          },
        },
      }),
    });
  });
  afterAll(() => stack?.close());

  const submit = async (jobId: string, text: string) => {
    const response = await stack.request(USER, 'POST', '/v1/jobs', {
      type: 'summarize',
      jobId,
      text,
    });
    expect(response.status).toBe(202);
    return json(response);
  };
  const upstreamCalls = (text: string) =>
    stack.claude.requests.filter((request) => JSON.stringify(request.body ?? null).includes(text));
  /** Long enough for the worker to have taken the message (it polls every 100 ms or so). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 3_000));

  it('leaves the job cancelled, never run: a new job, then one asked for again (it ran)', async () => {
    const jobId = `race-${Date.now()}`;
    const text = `Cancelled while it was sent ${jobId}.`;

    cancelFirst.add(jobId);
    await submit(jobId, text);
    await settle();
    expect(await waitForJob(stack, USER, jobId)).toMatchObject({ status: 'cancelled' });

    cancelFirst.add(jobId);
    await submit(jobId, text);
    await settle();
    expect(await waitForJob(stack, USER, jobId)).toMatchObject({ status: 'cancelled' });
    expect(upstreamCalls(text)).toHaveLength(0);

    // Asked for again with no cancel in the way, it runs.
    await submit(jobId, text);
    expect(await waitForJob(stack, USER, jobId, { statuses: ['succeeded'] })).toMatchObject({
      status: 'succeeded',
    });
    expect(upstreamCalls(text)).toHaveLength(1);
  });
});
