import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Surrogate pairs, a ZWJ sequence, CJK and combining marks: every way UTF-16 can be cut wrong. */
const UNIT = '😀👩‍👩‍👧漢字é̀';

/**
 * About `length` UTF-16 code units of UNIT repeated, so text crosses every chunk size (16 Ki,
 * 64 Ki…); never ending inside a surrogate pair (the last test sends half an emoji).
 */
const text = (length: number) =>
  UNIT.repeat(Math.ceil(length / UNIT.length))
    .slice(0, length)
    .replace(/[\uD800-\uDBFF]$/, '');

const graphemes = (value: string) =>
  Array.from(
    new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(value),
    (s) => s.segment,
  );

describe('text that is not ASCII', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { MAX_MESSAGE_CHARS: '100000' } });
  });
  afterAll(() => stack.close());

  it('comes back from every JSON route exactly as stored, never cut inside a character', async () => {
    const lengths = [16_383, 16_384, 16_385, 65_537, 99_998];
    const ids: string[] = [];
    for (const length of lengths) {
      // Two ASCII characters first, so a cut at 80 code units falls inside a surrogate pair.
      const message = `xx${Array.from(text(length)).join('')}`;
      const events = await collectSse(await stack.chat('unicode', { message, maxTokens: 5 }));
      expect(events.at(-1)?.event).toBe('done');
      ids.push(String(events[0]!.data.conversationId));
    }

    for (const [i, id] of ids.entries()) {
      const response = await stack.request('unicode', 'GET', `/v1/conversations/${id}`);
      const raw = await response.text();
      expect(raw).not.toContain('\uFFFD');
      const conversation = JSON.parse(raw);
      expect(conversation.messages[0].content).toBe(`xx${Array.from(text(lengths[i]!)).join('')}`);
      // Titles are cut at 80 code units at most, between graphemes.
      const title: string = conversation.title;
      expect(title.length).toBeLessThanOrEqual(80);
      expect(title.length).toBeGreaterThan(60);
      expect(
        graphemes(`xx${UNIT.repeat(10)}`)
          .join('')
          .startsWith(title),
      ).toBe(true);
      expect(graphemes(title).every((g) => graphemes(`xx${UNIT}`).includes(g))).toBe(true);
    }
    const list = await json(await stack.request('unicode', 'GET', '/v1/conversations?limit=100'));
    expect(JSON.stringify(list)).not.toContain('\uFFFD');
  });

  it('counts every text limit in UTF-16 code units, on every route, as the playground and stored items do', async () => {
    // 50,001 code points, 100,002 code units: within the limit as zod counts, past it as we do.
    const emoji = '😀'.repeat(50_001);
    const callsBefore = stack.claude.requests.length;
    const asked = [
      await stack.chat('counter', { message: emoji }),
      await stack.chat('counter', { message: 'hello', system: emoji }),
      await stack.request('counter', 'POST', '/v1/ui/chat', {
        id: 'counted',
        trigger: 'submit-message',
        messages: [{ id: 'q1', role: 'user', parts: [{ type: 'text', text: emoji }] }],
      }),
      await stack.request('counter', 'POST', '/v1/jobs', {
        text: 'a document',
        instructions: '😀'.repeat(2_001),
      }),
    ];

    for (const response of asked) {
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toMatch(/at most 100000|<=100000|<=4000/);
    }
    expect(stack.claude.requests).toHaveLength(callsBefore);
  });

  it('takes a lone surrogate (an emoji cut in half) as U+FFFD: Claude answers, and answers the next turn too', async () => {
    // JSON.parse accepts "\ud83d"; the Anthropic API refuses the whole request as not valid JSON.
    const cut = `half an emoji: ${'😀'.slice(0, 1)} and a stray ${'😀'.slice(1)}`;
    const first = await collectSse(await stack.chat('halves', { message: cut, maxTokens: 5 }));
    expect(first.at(-1)?.event).toBe('done');
    const conversationId = String(first[0]!.data.conversationId);

    const next = await collectSse(
      await stack.chat('halves', { conversationId, message: 'and now?', maxTokens: 5 }),
    );

    expect(next.at(-1)?.event).toBe('done');
    const sent = stack.claude.requests.at(-1)!.body as {
      messages: Array<{ content: Array<{ text: string }> }>;
    };
    expect(sent.messages[0]?.content[0]?.text).toBe('half an emoji: \uFFFD and a stray \uFFFD');
    const stored = await json(
      await stack.request('halves', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(stored.messages[0].content).toBe('half an emoji: \uFFFD and a stray \uFFFD');
  });
});
