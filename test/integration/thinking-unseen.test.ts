import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSse, json, readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Thinks unasked, showing nothing of it under its default display (the API only pings). */
const MODEL = 'claude-opus-5-5';
const IDLE_MS = 1_000;
const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * The newest models think before they answer, unasked and unseen: their stream is silent
 * meanwhile but for the API's pings, which the SDK does not pass on. A chat turn's idle watchdog
 * must not take that for a stall, and a turn cut meanwhile is billed what Claude can have
 * generated, not only what it showed.
 */
describe('a chat turn on a model that thinks unseen', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { ALLOWED_MODELS: MODEL, STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) },
    });
  });
  afterAll(() => stack.close());

  it('answers after thinking in silence longer than the idle timeout, billed Claude’s own count', async () => {
    // 30 thinking tokens at 10 a second: 3 s of silence, three idle timeouts.
    const events = await collectSse(
      await stack.chat('thinker', {
        model: MODEL,
        message: `Think it over ${directive('thinking-tokens=30 tokens=5 tps=10')}`,
      }),
    );

    const done = events.find((event) => event.event === 'done');
    expect(events.some((event) => event.event === 'error')).toBe(false);
    expect(done?.data).toMatchObject({ stopReason: 'end_turn', usage: { outputTokens: 35 } });
  });

  it('takes a stall right after Claude thought for one: the idle timeout ends it, billed its thinking', async () => {
    const startedAtMs = Date.now();
    // A second of thinking, then its block's end, then nothing: the stall is after 1 delta.
    const events = await collectSse(
      await stack.chat('stalled', {
        model: MODEL,
        maxTokens: 4_000,
        message: `Think it over ${directive('thinking-tokens=10 tokens=20 tps=10 fault=stall after=1')}`,
      }),
    );
    const elapsedMs = Date.now() - startedAtMs;

    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'error', data: { error: { type: 'timeout_error' } } });
    // The thinking and one idle timeout, not the turn's deadline.
    expect(elapsedMs).toBeLessThan(1_000 + 3 * IDLE_MS + 2_000);
    const { usage } = (last?.data ?? {}) as { usage?: { outputTokens: number } };
    // About a second of thinking at 1,000 tokens a second, not the whole silence.
    expect(usage?.outputTokens).toBeGreaterThanOrEqual(900);
    expect(usage?.outputTokens).toBeLessThan(1_900);
  });

  it('bills a turn stopped while Claude thought for what it can have generated meanwhile', async () => {
    const response = await stack.chat('stopper', {
      model: MODEL,
      maxTokens: 4_000,
      message: `Think it over ${directive('thinking-tokens=60 tokens=5 tps=10')}`,
    });
    let conversationId = '';
    let stoppedAtMs = 0;
    const startedAtMs = Date.now();
    let done: Record<string, unknown> | undefined;
    for await (const event of readSse(response)) {
      if (event.event === 'start') {
        conversationId = String(event.data.conversationId);
        setTimeout(() => {
          stoppedAtMs = Date.now();
          void stack.request('stopper', 'POST', `/v1/conversations/${conversationId}/stop`);
        }, 1_500);
      }
      if (event.event === 'done') done = event.data;
    }

    expect(done).toMatchObject({ stopReason: 'stopped' });
    const { messages } = await json(
      await stack.request('stopper', 'GET', `/v1/conversations/${conversationId}`),
    );
    const answer = messages[1] as { content: string; usage: { outputTokens: number } };
    expect(answer.content).toBe('');
    // At least the thinking until the stop at 1,000 tokens a second; at most max_tokens.
    expect(answer.usage.outputTokens).toBeGreaterThanOrEqual(stoppedAtMs - startedAtMs - 500);
    expect(answer.usage.outputTokens).toBeLessThanOrEqual(4_000);
  });
});
