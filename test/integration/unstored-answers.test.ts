import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerText, collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { withThrottledMethod } from './support/throttled-method.js';

const LEASE_MS = 1_000;

describe('an answer that could not be stored', () => {
  let stack: TestStack;
  const failing = { on: false };
  beforeAll(async () => {
    stack = await startTestStack({
      chatTuning: { turnLeaseMs: LEASE_MS },
      customizeChat: (adapters) => ({
        ...adapters,
        store: withThrottledMethod(adapters.store, 'finishTurn', failing),
      }),
    });
  });
  afterAll(() => stack.close());

  it('keeps all the user was shown: the next turn recovers it whole, billed once', async () => {
    failing.on = true;
    // A short answer: it ends before its first piece of text is due.
    const events = await collectSse(await stack.chat('unlucky', { message: 'hello' }));
    failing.on = false;
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: { error: { type: 'api_error' } },
    });
    const shown = answerText(events);
    expect(shown.length).toBeGreaterThan(0);
    const billed = await json(await stack.request('unlucky', 'GET', '/v1/usage'));

    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    const conversationId = String(events[0]!.data.conversationId);
    const next = await collectSse(
      await stack.chat('unlucky', { conversationId, message: 'go on' }),
    );
    expect(next.at(-1)?.event).toBe('done');

    const history = await json(
      await stack.request('unlucky', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(history.messages[1]).toMatchObject({ stopReason: 'interrupted', content: shown });
    const spent = await json(await stack.request('unlucky', 'GET', '/v1/usage'));
    expect(spent.requests).toBe(2);
    expect(spent.costUsd).toBeCloseTo(billed.costUsd + Number(next.at(-1)!.data.costUsd), 12);
  });
});
