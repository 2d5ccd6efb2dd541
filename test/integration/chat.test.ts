import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequests } from './support/claude-requests.js';
import { answerText, collectSse, json, readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A directive the local Claude reads from the message: a fault or pacing for this request. */
const directive = (text: string) => `[[local-claude: ${text}]]`;

describe('POST /v1/chat', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ claude: { minCacheableTokens: 1 } });
  });
  afterAll(() => stack.close());

  it('streams start, deltas and done as SSE, and stores the question and the answer', async () => {
    const response = await stack.chat('alice', { message: 'Hello there, Claude' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const events = await collectSse(response);
    expect(events[0]?.event).toBe('start');
    expect(events.at(-1)?.event).toBe('done');
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(1);
    for (const event of events) expect(event.data.type).toBe(event.event);

    const start = events[0]!.data;
    const done = events.at(-1)!.data;
    expect(done.messageId).toBe(start.messageId);
    expect(done.stopReason).toBe('end_turn');
    expect(done.usage).toMatchObject({
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
    });
    expect(done.costUsd).toBeGreaterThan(0);

    const stored = await json(
      await stack.request('alice', 'GET', `/v1/conversations/${start.conversationId}`),
    );
    expect(stored.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.messages[0].content).toBe('Hello there, Claude');
    expect(stored.messages[1]).toMatchObject({
      id: start.messageId,
      content: answerText(events),
      stopReason: 'end_turn',
      usage: done.usage,
    });
  });

  it('sends the second turn to Claude with the first one and cache breakpoints, and reads the cache', async () => {
    const first = await collectSse(
      await stack.chat('carol', { message: 'My name is Carol.', system: 'Be kind.' }),
    );
    const conversationId = first[0]!.data.conversationId;
    const second = await collectSse(
      await stack.chat('carol', {
        conversationId,
        message: 'What is my name?',
        system: 'Be kind.',
      }),
    );

    const sent = stack.claude.requests.at(-1)!.body as {
      system: Array<{ text: string; cache_control?: unknown }>;
      messages: Array<{ role: string; content: Array<{ text: string; cache_control?: unknown }> }>;
    };
    expect(sent.messages.map((m) => [m.role, m.content[0]?.text])).toEqual([
      ['user', 'My name is Carol.'],
      ['assistant', answerText(first)],
      ['user', 'What is my name?'],
    ]);
    expect(sent.system.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.messages[0]?.content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.messages[2]?.content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });

    const firstUsage = first.at(-1)!.data.usage as Record<string, number>;
    const secondUsage = second.at(-1)!.data.usage as Record<string, number>;
    expect(firstUsage.cacheCreationInputTokens).toBeGreaterThan(0);
    expect(secondUsage.cacheReadInputTokens).toBeGreaterThan(0);
  });

  it('delivers tokens as the model produces them, not all at the end', async () => {
    const slow = await startTestStack({ claude: { tokensPerSecond: 20 } });
    try {
      const response = await slow.chat('dave', {
        message: `Count slowly ${directive('tokens=30')}`,
      });
      for await (const event of readSse(response)) {
        if (event.event === 'delta') {
          // The first token reached us while the model was still generating the rest.
          expect(apiRequests(slow.claude)[0]!.outputTokensSent).toBeLessThan(30);
          break;
        }
      }
      await response.body?.cancel();
    } finally {
      await slow.close();
    }
  });

  it('ends an answer too long to store as max_tokens, stored as shown (it was lost and the conversation stuck)', async () => {
    const long = await startTestStack({
      env: { MAX_OUTPUT_TOKENS: '64000', USER_TOKENS_PER_MINUTE: '10000000' },
    });
    try {
      const events = await collectSse(
        await long.chat('novelist', {
          message: `A very long story ${directive('tokens=64000')}`,
          maxTokens: 64_000,
        }),
      );

      expect(events.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'max_tokens' } });
      const shown = answerText(events);
      expect(new TextEncoder().encode(shown).length).toBeGreaterThan(340_000);
      const conversationId = String(events[0]!.data.conversationId);
      const stored = await json(
        await long.request('novelist', 'GET', `/v1/conversations/${conversationId}`),
      );
      expect(stored.messages.at(-1)).toMatchObject({ content: shown, stopReason: 'max_tokens' });
      // Upstream stopped before the whole answer: generation was cut, not let run.
      expect(apiRequests(long.claude)[0]!.outputTokensSent).toBeLessThan(64_000);
      // And the conversation goes on.
      const nextResponse = await long.chat('novelist', {
        conversationId,
        message: `And then? ${directive('tokens=3')}`,
      });
      const next = await collectSse(nextResponse);
      expect(next.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'end_turn' } });
    } finally {
      await long.close();
    }
  }, 60_000);

  it('keeps a quiet stream alive with : ping comment lines', async () => {
    const quiet = await startTestStack({ chatTuning: { pingIntervalMs: 100 } });
    try {
      const comments: string[] = [];
      const events: string[] = [];
      // Three tokens 400 ms apart: the stream is quiet between them.
      const message = `hi ${directive('tokens=3 tps=2.5')}`;
      for await (const event of readSse(await quiet.chat('listener', { message }), (c) =>
        comments.push(c),
      )) {
        events.push(event.event);
      }
      expect(comments).toContain('ping');
      expect(events.at(-1)).toBe('done');
    } finally {
      await quiet.close();
    }
  });

  it('answers errors found before the stream as plain JSON errors, never a 200 stream', async () => {
    const cases: Array<[unknown, number, string]> = [
      ['{not json', 400, 'invalid_request_error'],
      [{ message: '' }, 400, 'invalid_request_error'],
      [{ message: 42 }, 400, 'invalid_request_error'],
      [{ message: 'hi', model: 'claude-opus-4-5' }, 400, 'invalid_request_error'],
      [{ message: 'hi', model: 'gpt-4' }, 404, 'not_found_error'],
      [
        { message: 'hi', conversationId: 'conv_00000000000000000000000000000000' },
        404,
        'not_found_error',
      ],
      [{ message: 'hi', conversationId: '../../etc' }, 404, 'not_found_error'],
    ];
    const before = stack.claude.requests.length;
    for (const [body, status, type] of cases) {
      const response = await stack.chat('erin', body as Record<string, unknown>);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect((await json(response)).error.type).toBe(type);
    }
    expect(stack.claude.requests.length).toBe(before);
  });

  it('answers unknown routes with 404 and wrong methods with 405 naming the allowed ones', async () => {
    const unknown = await stack.request('erin', 'GET', '/v1/nothing');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.type).toBe('not_found_error');

    const wrongMethod = await stack.request('erin', 'GET', '/v1/chat');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await json(wrongMethod)).error.type).toBe('invalid_request_error');

    const onParameterPath = await stack.request(
      'erin',
      'PUT',
      `/v1/conversations/conv_${'0'.repeat(32)}`,
    );
    expect(onParameterPath.status).toBe(405);
    expect(onParameterPath.headers.get('allow')).toBe('GET, HEAD, DELETE');

    const options = await fetch(`${stack.url}/v1/conversations`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD');
  });

  it('names every response in x-request-id, and every error body carries the same requestId (and request_id, as the Anthropic API)', async () => {
    const ok = await fetch(`${stack.url}/health`);
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const responses = [
      await stack.request('erin', 'GET', '/v1/nothing'),
      await stack.chat('erin', { message: '' }),
      await fetch(`${stack.url}/v1/usage`),
      await stack.request('erin', 'DELETE', '/v1/chat'),
    ];
    for (const response of responses) {
      const body = await json(response);
      expect(body).toMatchObject({ type: 'error', error: { type: expect.any(String) } });
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
      expect(body.request_id).toBe(body.requestId);
    }
  });

  it('caps maxTokens at the configured maximum', async () => {
    await collectSse(await stack.chat('erin', { message: 'hi', maxTokens: 1_000_000 }));
    expect((stack.claude.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(4096);
  });

  it('reports 503 naming the dependency that is not usable', async () => {
    const broken = await startTestStack();
    try {
      await broken.sqs.send(new DeleteQueueCommand({ QueueUrl: broken.queueUrl }));
      const response = await fetch(`${broken.url}/health`);
      expect(response.status).toBe(503);
      const requestId = response.headers.get('x-request-id');
      expect(await json(response)).toMatchObject({
        checks: { table: 'ok', queue: 'unavailable', claude: 'ok' },
        error: { type: 'api_error', message: 'unavailable: queue' },
        requestId,
        request_id: requestId,
      });
    } finally {
      await broken.close();
    }
  });

  it('reports health without a token', async () => {
    const response = await fetch(`${stack.url}/health`);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      status: 'ok',
      checks: { table: 'ok', queue: 'ok', claude: 'ok' },
    });
  });
});
