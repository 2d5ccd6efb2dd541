import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerText, collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;
/** The model the regenerates ask for, which the local Claude fails as the directive says. */
const FAILING = 'claude-haiku-4-5';

interface Listed {
  id: string;
  role: string;
  content: string;
  stopReason?: string;
  superseded?: true;
}

/**
 * A regenerate replaces the answer as it begins. One that then shows nothing (failed, or
 * stopped, before its first token) replaced nothing: the answer the user had read came back
 * only with `include=superseded`, which `useChat` never reads, and its chat showed an empty one.
 */
describe('a regenerate that shows nothing', () => {
  let stack: TestStack;
  const userId = 'second-thoughts';
  beforeAll(async () => {
    stack = await startTestStack({
      env: { ALLOWED_MODELS: FAILING, FIRST_BYTE_TIMEOUT_MS: '5000' },
      chatTuning: { stopPollIntervalMs: 50 },
    });
  });
  afterAll(() => stack.close());

  /** A conversation of one question, its answer read, whose regenerates meet `fault`. */
  async function answered(fault: string) {
    const events = await collectSse(
      await stack.chat(userId, { message: `Tell me ${directive(`${fault} model=${FAILING}`)}` }),
    );
    const conversationId = String(events[0]!.data.conversationId);
    return { conversationId, answer: answerText(events) };
  }
  const listed = async (conversationId: string, query = '') =>
    (await json(await stack.request(userId, 'GET', `/v1/conversations/${conversationId}${query}`)))
      .messages as Listed[];
  const regenerate = (conversationId: string) =>
    stack.request(userId, 'POST', `/v1/conversations/${conversationId}/regenerate`, {
      model: FAILING,
    });

  it('gives back the answer it was to replace when it fails before its first token, keeping its own replaced', async () => {
    const { conversationId, answer } = await answered('fault=error-before status=500');
    const before = await listed(conversationId);

    const failed = await regenerate(conversationId);

    expect(failed.status).toBe(503);
    await failed.text();
    expect(await listed(conversationId)).toEqual(before);
    expect(before.at(-1)?.content).toBe(answer);
    const all = await listed(conversationId, '?include=superseded');
    expect(all.map((m) => [m.role, m.stopReason, m.superseded])).toEqual([
      ['user', undefined, undefined],
      ['assistant', 'end_turn', undefined],
      ['assistant', 'error', true],
    ]);

    // The answer given back is the one a regenerate gives again (it was the empty one: a 409).
    const again = await stack.request(
      userId,
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      {},
    );
    expect(again.status).toBe(200);
    await collectSse(again);
    const regenerated = await listed(conversationId);
    expect(regenerated.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(regenerated[1]?.id).not.toBe(before[1]?.id);

    // The conversation goes on from there.
    const next = await stack.chat(userId, { conversationId, message: 'And then?' });
    expect(next.status).toBe(200);
    await collectSse(next);
    const asked = stack.claude.requests.at(-1)!.body as { messages: Array<{ role: string }> };
    expect(asked.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('gives it back when stopped before its first token', async () => {
    const { conversationId } = await answered('fault=hang');
    const before = await listed(conversationId);

    const regenerating = regenerate(conversationId);
    // Stoppable once the turn is recorded: a stop before that is a 409.
    await expect
      .poll(
        async () =>
          (await stack.request(userId, 'POST', `/v1/conversations/${conversationId}/stop`)).status,
      )
      .toBe(202);
    const events = await collectSse(await regenerating);

    expect(events.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'stopped' } });
    expect(answerText(events)).toBe('');
    expect(await listed(conversationId)).toEqual(before);
  });

  it('replaces the answer once it has shown any of its own, even failing after', async () => {
    const { conversationId } = await answered('fault=error-mid after=3');

    const failing = await regenerate(conversationId);
    const events = await collectSse(failing);

    const shown = answerText(events);
    expect(shown.length).toBeGreaterThan(0);
    const now = await listed(conversationId);
    expect(now.map((m) => [m.role, m.content, m.stopReason])).toEqual([
      ['user', expect.any(String), undefined],
      ['assistant', shown, 'error'],
    ]);
  });
});
