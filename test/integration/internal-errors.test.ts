import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * Failures of ours that the model-call error rate does not see (a route answered 5xx for a
 * table, queue or secret that failed, a bug) are counted as `InternalErrors`, which an alarm
 * watches: Lambda's own Errors count only invocations that crashed, and these do not.
 */
describe('internal errors of the chat function', () => {
  let stack: TestStack;
  const failing = { queue: false };
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({
      customizeChat: (adapters) => ({
        ...adapters,
        queue: {
          send: (message) =>
            failing.queue
              ? Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' }))
              : adapters.queue.send(message),
        },
      }),
    });
  });
  afterEach(() => {
    failing.queue = false;
    published.length = 0;
  });
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  const internalErrors = () =>
    published.reduce(
      (total, line) =>
        total +
        (line.service === 'chat' && typeof line.InternalErrors === 'number'
          ? line.InternalErrors
          : 0),
      0,
    );

  it('counts a job the queue would not take, answered 500, as an internal error', async () => {
    failing.queue = true;
    const response = await stack.request('producer', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A document to summarize.',
    });
    expect(response.status).toBe(500);

    await vi.waitFor(() => expect(internalErrors()).toBe(1));
  });

  it('does not count a refused request, nor a model that could not start (the error rate has it)', async () => {
    const refused = await stack.request('producer', 'POST', '/v1/jobs', { type: 'nonsense' });
    expect(refused.status).toBe(400);
    const overloaded = await stack.chat('overloaded', {
      message: 'hi [[local-claude: fault=error-before status=529]]',
    });
    expect(overloaded.status).toBe(529);
    await overloaded.body?.cancel();

    await vi.waitFor(() => expect(published.some((line) => 'TurnsFailed' in line)).toBe(true));
    expect(internalErrors()).toBe(0);
  });
});
