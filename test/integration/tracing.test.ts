import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_TRACE,
  tracedLambdaEnvironment,
} from '../../local-stack/lambda-runtime/traced-environment.js';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { resolveAsBundled } from './support/bundled-trace-context.js';
import { readSse, type SseEvent } from './support/sse.js';
import type { TestStack } from './support/test-stack.js';

interface TraceDocument {
  name: string;
  id: string;
  type?: string;
  trace_id?: string;
  parent_id?: string;
  namespace?: string;
  annotations?: Record<string, unknown>;
  aws?: { operation?: string };
  fault?: boolean;
  error?: boolean;
  throttle?: boolean;
}

/** Short, so a turn of a second polls for a stop and renews its lease many times. */
const WATCH_TUNING = { stopPollIntervalMs: 50, turnLeaseMs: 400 };

/**
 * The functions as the Lambda runtime starts them with active tracing: the X-Ray SDK
 * in Lambda mode, a trace header, and a daemon address; here a UDP socket stands in
 * for the X-Ray daemon and collects what Powertools Tracer sends it.
 */
describe('tracing', () => {
  let daemon: Socket;
  let stack: TestStack;
  let events: TopicSubscriber;
  const documents: TraceDocument[] = [];
  let redirected: readonly string[] = [];

  beforeAll(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (message) => {
      const [, body] = message.toString('utf8').split('\n');
      if (body) documents.push(JSON.parse(body) as TraceDocument);
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      ...tracedLambdaEnvironment(`127.0.0.1:${daemon.address().port}`),
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    });
    redirected = resolveAsBundled();
    // Imported only now: Tracer and the X-Ray SDK read the environment when they load.
    const { startTestStack } = await import('./support/test-stack.js');
    stack = await startTestStack({ worker: true, chatTuning: WATCH_TUNING });
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `traced-events-${randomUUID().slice(0, 8)}`,
      filterPolicy: { type: ['job.ended'] },
    });
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
    daemon.close();
  });

  const named = (name: string) => documents.filter((document) => document.name === name);

  it("keeps the X-Ray SDK's trace context as the bundles do, on AsyncLocalStorage", () => {
    expect(redirected).toEqual(['cls-hooked/context']);
  });

  it('sends a subsegment per request with its DynamoDB calls and the Claude call beneath it', async () => {
    const response = await stack.chat('traced', { message: 'Hello, tracer' });
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 300));

    const request = named('## POST /v1/chat');
    expect(request).toHaveLength(1);
    expect(request[0]?.annotations).toMatchObject({
      ColdStart: expect.any(Boolean),
      Service: 'chat',
    });
    const model = named('## anthropic.messages.stream');
    expect(model).toHaveLength(1);
    expect(model[0]?.annotations).toMatchObject({ model: 'claude-sonnet-4-6' });
    // Anthropic's node on the service map (Tracer's HTTP instrumentation is off).
    expect(model[0]?.namespace).toBe('remote');
    // Before the model call (conversation, admission, the turn) and after it (answer, settlement).
    expect(named('DynamoDB').length).toBeGreaterThanOrEqual(4);
    for (const child of [...model, ...named('DynamoDB')]) {
      expect(child.parent_id).toBe(request[0]?.id);
    }
    for (const document of documents) {
      expect(document.trace_id).toBe(LOCAL_TRACE.root);
    }
  });

  it('keeps requests running at once apart: each with its own calls beneath it', async () => {
    const seen = documents.length;
    await Promise.all(
      ['one', 'two', 'three'].map(async (message) =>
        (await stack.chat('traced', { message })).text(),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const sent = documents.slice(seen);
    const requests = sent.filter((document) => document.name === '## POST /v1/chat');
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(request.parent_id).toBe(LOCAL_TRACE.parent);
    for (const request of requests) {
      const beneath = sent.filter((document) => document.parent_id === request.id);
      expect(
        beneath.filter((document) => document.name === 'DynamoDB').length,
      ).toBeGreaterThanOrEqual(4);
      expect(
        beneath.filter((document) => document.name === '## anthropic.messages.stream'),
      ).toHaveLength(1);
    }
    const requestIds = new Set(requests.map((request) => request.id));
    for (const call of sent.filter((document) => document.name !== '## POST /v1/chat')) {
      expect(requestIds.has(call.parent_id ?? '')).toBe(true);
    }
  });

  it("marks a request refused for the caller's fault as an error (a throttle for a 429), and only a failure of ours as a fault", async () => {
    const seen = documents.length;
    const refused = await fetch(`${stack.url}/v1/usage`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(refused.status).toBe(401);
    // A model there is that this deployment does not allow.
    const invalid = await stack.chat('traced', { message: 'hi', model: 'claude-opus-4-5' });
    expect(invalid.status).toBe(400);
    const failed = await stack.chat('traced', {
      message: 'hi [[local-claude: fault=error-before status=401]]',
    });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const throttled = await stack.request('traced', 'POST', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: 'hi [[local-claude: fault=error-before status=429 should-retry=false]]',
        },
      ],
    });
    expect(throttled.status).toBe(429);
    await Promise.all([refused.text(), invalid.text(), failed.text(), throttled.text()]);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const sent = documents.slice(seen);
    const flags = (name: string) =>
      sent
        .filter((document) => document.name === name)
        .map(({ fault, error, throttle }) => ({ fault, error, throttle }));
    expect(flags('## GET /v1/usage')).toEqual([{ error: true }]);
    expect(flags('## POST /v1/chat')).toEqual([{ error: true }, { fault: true }]);
    expect(flags('## POST /v1/messages')).toEqual([{ error: true, throttle: true }]);
    // Anthropic refusing the deployment's key: an error on its edge (our request's 5xx is the fault).
    expect(flags('## anthropic.messages.stream')).toEqual([{ error: true }]);
  });

  it("leaves a streaming turn's stop polls and heartbeats out of its trace", async () => {
    await (await stack.chat('watched', { message: 'the month begun' })).text();
    const seen = documents.length;
    const response = await stack.chat('watched', {
      message: 'slowly [[local-claude: tokens=400 tps=40]]',
    });
    const events: SseEvent[] = [];
    let stopAfter: Promise<Response> | undefined;
    for await (const event of readSse(response)) {
      events.push(event);
      // Long enough for about 20 polls and 10 heartbeats; the stop is seen by a poll.
      stopAfter ??= new Promise((resolve) => setTimeout(resolve, 1_000)).then(() =>
        stack.request(
          'watched',
          'POST',
          `/v1/conversations/${events[0]?.data.conversationId}/stop`,
        ),
      );
    }
    expect((await stopAfter)?.status).toBe(202);
    expect(events.at(-1)?.data.stopReason).toBe('stopped');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const sent = documents.slice(seen);
    // The slow turn's: the one before it may only now have been sent.
    const turn = sent.findLast((document) => document.name === '## POST /v1/chat');
    const operations = sent
      .filter((document) => document.name === 'DynamoDB' && document.parent_id === turn?.id)
      .map((document) => document.aws?.operation);
    // The turn's own writes stay: its admission, question, answer pieces and settlement.
    expect(operations.length).toBeGreaterThanOrEqual(4);
    expect(operations).not.toContain('GetItem');
    expect(operations.filter((operation) => operation === 'UpdateItem').length).toBeLessThan(10);
  });

  it('traces the worker: its invocation, the model call and the DynamoDB calls beneath it', async () => {
    const queued = await stack.request('traced', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A short document about tracing.',
    });
    const { jobId } = (await queued.json()) as { jobId: string };
    // Waited for by its event, not by polling GET /v1/jobs/{id}: in this one process a chat
    // request running beside the worker would take over the X-Ray SDK's Lambda-mode segment,
    // which Lambda, one invocation per process, never does.
    const { event } = await events.waitFor<{ jobId: string; status: string }>(
      (e) => e.jobId === jobId,
      { timeoutMs: 15_000 },
    );
    expect(event.status).toBe('succeeded');
    // The invocation's segment is sent when the handler returns, after the job's end is published.
    for (let waited = 0; named('## index.handler').length === 0 && waited < 5_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const invocation = named('## index.handler');
    expect(invocation).toHaveLength(1);
    expect(invocation[0]?.annotations).toMatchObject({ Service: 'worker' });
    // Streamed, so a call cut off at the invocation's deadline still settles what it spent.
    const call = named('## anthropic.messages.stream').filter(
      (document) => document.parent_id === invocation[0]?.id,
    );
    expect(call).toHaveLength(1);
    expect(
      named('DynamoDB').filter((document) => document.parent_id === invocation[0]?.id).length,
    ).toBeGreaterThanOrEqual(3);
  });
});
