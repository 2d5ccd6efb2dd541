import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequests } from './support/claude-requests.js';
import { collectSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Longer than the 4 s Node's `fetch` keeps an idle connection when the server names none. */
const PAUSE_MS = 5_000;

/**
 * A user reads an answer and types the next question: the function's connection to Claude
 * is still open when it comes, instead of TCP and TLS again before each turn's first token.
 */
describe('the connection to Claude, across pauses', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ maintenance: false });
  });
  afterAll(() => stack.close());

  it('serves a turn and a /v1/messages call that come after seconds of quiet', async () => {
    await collectSse(await stack.chat('pausing-user', { message: 'First question' }));
    await sleep(PAUSE_MS);
    await collectSse(await stack.chat('pausing-user', { message: 'After a pause' }));
    await sleep(PAUSE_MS);
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('pausing-user'),
    });
    await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'And through the gateway' }],
    });

    const calls = apiRequests(stack.claude);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((call) => call.connection)).size).toBe(1);
  }, 30_000);
});
