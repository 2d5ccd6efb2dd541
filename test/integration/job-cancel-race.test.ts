import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from './support/jobs.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const USER = 'racer';
/** Whose conversation's compactions each wait for their user's cancel before they are sent. */
const COMPACTING_USER = 'compaction-racer';
const COMPACTION_THRESHOLD_TOKENS = 150;

/**
 * A user racing themselves: `POST /v1/jobs` (or a turn asking for its conversation's compaction)
 * records the job queued, then sends its message; a cancel of theirs can land in between. The
 * stack's own queue sends the message, after the user's cancel (made through the API, as theirs
 * would be) where a test asks for one.
 */
describe('a cancel landing between the chat function recording a job and sending its message', () => {
  let stack: TestStack;
  /** Job ids whose next send waits for their user's cancel first. */
  const cancelFirst = new Set<string>();
  /** The compactions sent for COMPACTING_USER, each cancelled just before. */
  const compactionsSent: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: String(COMPACTION_THRESHOLD_TOKENS) },
      customizeChat: (adapters) => ({
        ...adapters,
        queue: {
          async send(message, options) {
            const compaction =
              message.type === 'summarize.conversation' && message.userId === COMPACTING_USER;
            if (compaction) compactionsSent.push(message.jobId);
            if (cancelFirst.delete(message.jobId) || compaction) {
              const cancel = await stack.request(
                message.userId,
                'POST',
                `/v1/jobs/${message.jobId}/cancel`,
              );
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

  it("leaves a conversation's compaction cancelled, never run, when its user cancels it as it is sent", async () => {
    const turn = `Some words about the topic of compaction races. ${'More of them. '.repeat(12)}`;
    let conversationId: string | undefined;
    for (let n = 0; n < 12 && compactionsSent.length === 0; n++) {
      const events = await collectSse(
        await stack.chat(COMPACTING_USER, {
          message: `Turn ${n}: ${turn}`,
          ...(conversationId && { conversationId }),
        }),
      );
      conversationId = String(events[0]!.data.conversationId);
    }
    expect(compactionsSent).toHaveLength(1);
    const upstreamBefore = stack.claude.requests.length;

    await settle();

    expect(await waitForJob(stack, COMPACTING_USER, compactionsSent[0]!)).toMatchObject({
      status: 'cancelled',
    });
    expect(stack.claude.requests).toHaveLength(upstreamBefore);
  });
});
