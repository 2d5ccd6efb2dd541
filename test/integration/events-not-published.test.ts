import { DeleteTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * A job's end that the events topic does not take must reach the `EventsNotPublished`
 * alarm: producers wait for it. The chat function sends one when it cancels a job.
 */
describe('a job cancelled while the events topic is gone', () => {
  let stack: TestStack;
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack();
  });
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  it('is cancelled all the same, and counted as an event not published', async () => {
    const submitted = await stack.request('orphan', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'Nobody will hear of this.',
      jobId: 'unheard',
    });
    expect(submitted.status).toBe(202);
    await stack.sns.send(new DeleteTopicCommand({ TopicArn: stack.eventsTopicArn }));

    const response = await stack.request('orphan', 'POST', '/v1/jobs/unheard/cancel');

    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ jobId: 'unheard', status: 'cancelled' });
    await vi.waitFor(() =>
      expect(published.filter((line) => 'EventsNotPublished' in line)).toEqual([
        expect.objectContaining({ EventsNotPublished: 1, service: 'chat' }),
      ]),
    );
  });
});
