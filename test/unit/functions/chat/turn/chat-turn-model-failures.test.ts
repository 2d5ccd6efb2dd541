import { describe, expect, it, vi } from 'vitest';
import { promptBudget } from '../../../../../functions/chat/turn/prompt-budget.js';
import { ModelError, type ModelErrorKind } from '../../../../../shared/domain/errors.js';
import type { FinishTurn } from '../../../../../shared/ports/conversation-store.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { type ModelScript, ScriptedModel } from '../../../../fakes/scripted-model.js';
import {
  type ChatFixture,
  chatFixture,
  HAIKU,
  LIMITS,
  OPUS,
  runToEnd,
  SONNET,
  slowToStart,
  streamedText,
  USER,
  windowAt,
} from './support.js';

/** The only conversation of the user. */
async function onlyConversationId(f: ChatFixture): Promise<string> {
  const [conversation, ...others] = await f.conversations();
  expect(others).toEqual([]);
  return conversation!.id;
}

async function expectAdmissionReleased(f: ChatFixture) {
  expect((await f.month()).heldNanoUsd).toBe(0);
  expect(f.rateLimiter.countsOf(windowAt())?.tokens).toBe(0);
  expect(f.ledger.settled).toEqual([]);
}

describe('a chat turn whose model fails before answering', () => {
  it('keeps the question with an empty failed answer, releases the admission and throws', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'fail-before', error: 'api_error' }]),
    });

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).kind).toBe('api_error');
    const conversationId = await onlyConversationId(f);
    expect(await f.messages(conversationId)).toEqual([
      expect.objectContaining({ role: 'user', content: 'hi' }),
      expect.objectContaining({
        role: 'assistant',
        content: '',
        stopReason: 'error',
        costNanoUsd: 0,
      }),
    ]);
    expect((await f.store.getConversation(USER, conversationId))?.activeTurn).toBeUndefined();
    await expectAdmissionReleased(f);
    expect(f.observer.calls).not.toContain('started');
    expect(f.observer.startFailures).toEqual([error]);
  });

  describe('a prompt the model counts past its context window', () => {
    /** Two answered turns of ~250 estimated tokens each, then a question the model refuses first. */
    async function overflowing(then: ModelScript) {
      const f = chatFixture({
        model: new ScriptedModel([
          { kind: 'answer', chunks: ['a'.repeat(400)] },
          { kind: 'answer', chunks: ['b'.repeat(400)] },
          {
            kind: 'fail-before',
            error: 'invalid_request',
            contextOverflow: { promptTokens: 300_000, contextTokens: 200_000 },
          },
          then,
        ]),
      });
      const first = await f.chat({ message: 'q'.repeat(600) });
      const { conversationId } = first.turn;
      await f.chat({ conversationId, message: 'r'.repeat(600) });
      return { f, conversationId };
    }

    it('is asked again without its oldest messages, and the answer kept whole in the conversation', async () => {
      const { f, conversationId } = await overflowing({ kind: 'answer', chunks: ['Hi'] });

      const { events } = await f.chat({ conversationId, message: 'last' });

      expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'end_turn' });
      const [refused, asked] = f.model.requests.slice(2).map((request) => request.messages);
      expect(refused).toHaveLength(5);
      expect(asked).toEqual(refused!.slice(2));
      expect(f.observer.shortenedPrompts).toEqual([
        { messagesLeftOut: 2, promptTokens: 300_000, contextTokens: 200_000 },
      ]);
      expect(await f.messages(conversationId)).toHaveLength(6);
    });

    it('fails as before when the shorter prompt is refused too, after one more call', async () => {
      const { f, conversationId } = await overflowing({
        kind: 'fail-before',
        error: 'invalid_request',
        contextOverflow: { promptTokens: 250_000, contextTokens: 200_000 },
      });

      const error = await f
        .start({ conversationId, message: 'last' })
        .catch((caught: unknown) => caught);

      expect(error).toMatchObject({ kind: 'invalid_request' });
      expect(f.model.requests).toHaveLength(4);
      expect((await f.messages(conversationId)).at(-1)).toMatchObject({ stopReason: 'error' });
      // Released: the first two turns' reservations were settled, this one's is gone.
      expect(await f.ledger.listReservations()).toEqual([]);
    });
  });

  it('answers with the fallback model, once, when the requested one is overloaded', async () => {
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'fail-before', error: 'overloaded' },
        { kind: 'answer', chunks: ['Hi'], usage: { inputTokens: 1_000, outputTokens: 1 } },
      ]),
    });

    const { turn, events } = await f.chat({ message: 'hi' });

    expect(f.model.requests.map((request) => request.model)).toEqual([SONNET, HAIKU]);
    expect(turn.model).toBe(HAIKU);
    expect(events[0]).toMatchObject({ type: 'start', model: HAIKU });
    // Priced as Haiku: 1000 x $1 + 1 x $5 per million tokens.
    expect(events.at(-1)).toMatchObject({ type: 'done', costNanoUsd: 1_005_000 });
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({ model: HAIKU });
  });

  it('records the fallback model with the turn, so a recovery prices the answer as it', async () => {
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'fail-before', error: 'overloaded' },
        { kind: 'answer', chunks: ['Hi'], usage: { inputTokens: 1_000, outputTokens: 1 } },
      ]),
    });

    const turn = await f.start({ message: 'hi' });

    const { activeTurn } = (await f.store.getConversation(USER, turn.conversationId))!;
    expect(activeTurn?.hold?.model).toBe(HAIKU);
  });

  it('holds the dearer worst case of the requested and the fallback model, so a fallback stays within budget', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: ['Hi'] }]),
      limits: { defaultModel: HAIKU, models: new Set([HAIKU, OPUS]), fallbackModel: OPUS },
    });
    const message = 'hi';

    const turn = await f.start({ message });
    const held = (await f.month()).heldNanoUsd;
    await runToEnd(turn);

    const { promptMaxTokens } = promptBudget({ message, ...LIMITS });
    expect(held).toBe(f.prices.worstCaseNanoUsd(OPUS, promptMaxTokens, LIMITS.maxOutputTokens));
  });

  it("says, when the budget refuses a turn, that it was the dearer fallback's worst case that did not fit", async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: ['Hi'] }]),
      limits: { defaultModel: HAIKU, models: new Set([HAIKU, OPUS]), fallbackModel: OPUS },
    });
    const { promptMaxTokens } = promptBudget({ message: 'hi', ...LIMITS });
    // Enough for Haiku's worst case, not for Opus's.
    const haikuWorstCase = f.prices.worstCaseNanoUsd(
      HAIKU,
      promptMaxTokens,
      LIMITS.maxOutputTokens,
    );
    await f.ledger.setUserBudgetOverride(USER, (2 * haikuWorstCase) / 1e9, f.clock());

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'BudgetExceededError' });
    expect((error as Error).message).toMatch(
      /holds the worst case of claude-opus-4-6, which answers if claude-haiku-4-5 is overloaded/,
    );
    expect(f.model.requests).toHaveLength(0);
  });

  it("keeps saying, for the fallback's worst case, when only calls in flight hold what it lacks", async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: ['Hi'] }]),
      limits: { defaultModel: HAIKU, models: new Set([HAIKU, OPUS]), fallbackModel: OPUS },
    });
    const { promptMaxTokens } = promptBudget({ message: 'hi', ...LIMITS });
    const opusWorstCase = f.prices.worstCaseNanoUsd(OPUS, promptMaxTokens, LIMITS.maxOutputTokens);
    await f.ledger.setUserBudgetOverride(USER, (2 * opusWorstCase) / 1e9, f.clock());
    // Another turn in flight holds as much again, and a little more.
    await f.start({ message: 'hi' });
    await f.ledger.reserve({
      userId: USER,
      amountNanoUsd: 1_000,
      userDefaultBudgetNanoUsd: 2 * opusWorstCase,
      globalBudgetNanoUsd: 1e15,
      nowMs: f.clock(),
      expiresAtMs: f.clock() + 60_000,
    });

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'BudgetExceededError', heldByCallsInFlight: true });
    expect((error as Error).message).toMatch(/holds the worst case of claude-opus-4-6/);
  });

  it('does not fall back to a model the API key may not use, nor hold its worst case', async () => {
    let held: number | undefined;
    const f: ChatFixture = chatFixture({
      model: new ScriptedModel([{ kind: 'fail-before', error: 'overloaded' }]).enqueue({
        kind: 'answer',
        chunks: 1,
      }),
      wrapModel: (model) => ({
        async openStream(request) {
          held ??= (await f.month()).heldNanoUsd;
          return model.openStream(request);
        },
        complete: (request) => model.complete(request),
      }),
      limits: { defaultModel: HAIKU, models: new Set([HAIKU, OPUS]), fallbackModel: OPUS },
    });
    const apiKey = { id: 'key-1', allowedModels: [HAIKU] };

    const error = await f.start({ message: 'hi', apiKey }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'ModelError', kind: 'overloaded' });
    expect(f.model.requests.map((request) => request.model)).toEqual([HAIKU]);
    const { promptMaxTokens } = promptBudget({ message: 'hi', ...LIMITS });
    expect(held).toBe(f.prices.worstCaseNanoUsd(HAIKU, promptMaxTokens, LIMITS.maxOutputTokens));
    await expectAdmissionReleased(f);
  });

  it('throws the overload when the fallback model is overloaded too, without a third call', async () => {
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'fail-before', error: 'overloaded' },
        { kind: 'fail-before', error: 'overloaded' },
      ]),
    });

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'ModelError', kind: 'overloaded' });
    expect(f.model.requests).toHaveLength(2);
    await expectAdmissionReleased(f);
  });

  it.each<[string, ModelErrorKind, Partial<typeof LIMITS>, string?]>([
    ['another failure than overload', 'rate_limited', {}],
    ['an overload when no fallback model is set', 'overloaded', { fallbackModel: undefined }],
    ['an overload of the fallback model itself', 'overloaded', {}, HAIKU],
  ])('does not fall back on %s', async (_, kind, limits, model) => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'fail-before', error: kind }]).enqueue({
        kind: 'answer',
        chunks: 1,
      }),
      limits,
    });

    const error = await f.start({ message: 'hi', model }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'ModelError', kind });
    expect(f.model.requests).toHaveLength(1);
  });

  it('releases the admission even when the failed answer cannot be stored', async () => {
    class AnswerlessStore extends InMemoryConversationStore {
      override async finishTurn(_: FinishTurn): Promise<void> {
        throw new Error('the conversations table is unreachable');
      }
    }
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'fail-before', error: 'api_error' }]),
      store: new AnswerlessStore(),
    });

    await expect(f.start({ message: 'hi' })).rejects.toThrow();

    await expectAdmissionReleased(f);
  });

  it('streams a turn stopped while the model was still starting as done, stopped, at no cost', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: 3 }]),
      wrapModel: slowToStart,
    });
    const starting = f.start({ message: 'hi' });
    await vi.waitFor(async () => expect(await f.conversations()).toHaveLength(1), { interval: 1 });
    const conversationId = await onlyConversationId(f);

    expect(await f.store.requestStop(USER, conversationId, f.clock())).toBe(true);
    const events = await runToEnd(await starting);

    expect(events.map((event) => event.type)).toEqual(['start', 'done']);
    expect(events.at(-1)).toMatchObject({ stopReason: 'stopped', costNanoUsd: 0 });
    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    expect((await f.messages(conversationId)).at(-1)).toMatchObject({
      role: 'assistant',
      content: '',
      stopReason: 'stopped',
    });
    const month = await f.month();
    expect(month).toMatchObject({ heldNanoUsd: 0, spentNanoUsd: 0 });
    expect(f.observer.startFailures).toEqual([]);
  });

  it('throws a timeout when the deadline passes before the model starts, keeping the question', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: 3 }]),
      wrapModel: slowToStart,
      remainingTimeMs: LIMITS.deadlineMarginMs + 20,
    });

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'ModelError', kind: 'timeout', type: 'timeout_error' });
    const conversationId = await onlyConversationId(f);
    expect((await f.messages(conversationId)).map((m) => [m.role, m.stopReason])).toEqual([
      ['user', undefined],
      ['assistant', 'error'],
    ]);
    await expectAdmissionReleased(f);
    expect(f.observer.startFailures).toEqual([error]);
  });
});

describe('the first-byte budget', () => {
  it('gives up on a model that does not start in time, however long the function has left', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: 3 }]),
      wrapModel: slowToStart,
      limits: { firstByteTimeoutMs: 30 },
      remainingTimeMs: 60_000,
    });
    const started = performance.now();

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ name: 'ModelError', kind: 'timeout', retryable: true });
    const conversationId = await onlyConversationId(f);
    expect((await f.messages(conversationId)).map((m) => m.stopReason)).toEqual([
      undefined,
      'error',
    ]);
    await expectAdmissionReleased(f);
  });

  it('no longer applies once the answer has started, however long it then takes', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'answer', chunks: 3 }]),
      limits: { firstByteTimeoutMs: 20 },
    });
    const turn = await f.start({ message: 'hi' });
    await new Promise((resolve) => setTimeout(resolve, 40));

    const events = await runToEnd(turn);

    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'end_turn' });
  });
});

describe('a chat turn interrupted mid-stream', () => {
  it('keeps the partial answer, bills the estimated usage and ends with the error when the model fails', async () => {
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'fail-mid', chunks: ['Partial', ' answer'], error: 'overloaded' },
      ]),
    });

    const { turn, events } = await f.chat({ message: 'hi' });

    expect(events.map((event) => event.type)).toEqual(['start', 'text', 'text', 'error']);
    const last = events.at(-1);
    expect(last?.type === 'error' && last.error).toMatchObject({
      kind: 'overloaded',
      type: 'overloaded_error',
      retryable: true,
    });
    const stored = (await f.messages(turn.conversationId)).at(-1)!;
    expect(stored).toMatchObject({
      content: 'Partial answer',
      stopReason: 'error',
      usageEstimated: true,
    });
    // Claude reported 1 output token at message_start; 14 bytes of text are counted as 5.
    expect(stored.usage?.outputTokens).toBe(5);
    const costNanoUsd = f.prices.costNanoUsd(SONNET, stored.usage!);
    expect(stored.costNanoUsd).toBe(costNanoUsd);
    expect(await f.month()).toMatchObject({ spentNanoUsd: costNanoUsd, heldNanoUsd: costNanoUsd });
    expect(f.observer.summaries[0]).toMatchObject({
      stopReason: 'error',
      usageEstimated: true,
      failure: { kind: 'overloaded' },
    });
  });

  it('aborts upstream on a stop request, stores the partial answer as stopped and ends with done', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'stall', chunks: ['Once', ' upon', ' a time'] }]),
    });
    const turn = await f.start({ message: 'Tell me a story.' });

    const events = await runToEnd(turn, (event) => {
      if (event.type === 'start') void f.store.requestStop(USER, turn.conversationId, f.clock());
    });

    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'stopped' });
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({
      content: streamedText(events),
      stopReason: 'stopped',
    });
    expect(streamedText(events)).toBe('Once upon a time');
    expect(f.observer.summaries[0]?.failure).toBeUndefined();
  });

  it('ends the answer as timeout, with done, when the deadline comes first', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'stall', chunks: ['Once', ' upon'] }]),
      remainingTimeMs: LIMITS.deadlineMarginMs + 20,
    });

    const { turn, events } = await f.chat({ message: 'Tell me a story.' });

    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'timeout' });
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({
      content: 'Once upon',
      stopReason: 'timeout',
    });
  });

  it('lets Claude think unseen past the idle timeout, and bills a stop then what it can have generated meanwhile', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'stall', chunks: 0, thinks: true }]),
      limits: { streamIdleTimeoutMs: 20 },
    });
    const turn = await f.start({ message: 'Think it through.' });

    const events = await runToEnd(turn, (event) => {
      if (event.type !== 'start') return;
      // Five idle timeouts of silence, then 2.5 s of thinking by the turn's clock, then a stop.
      setTimeout(() => {
        f.clock.advance(2_500);
        void f.store.requestStop(USER, turn.conversationId, f.clock());
      }, 100);
    });

    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'stopped' });
    const [settled] = f.ledger.settled;
    // 2,500 ms at MAX_OUTPUT_TOKENS_PER_SECOND, never past max_tokens.
    expect(settled?.actual.usage.outputTokens).toBe(
      Math.min(2_500, f.model.requests[0]!.maxTokens),
    );
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({
      content: '',
      stopReason: 'stopped',
      usageEstimated: true,
    });
  });

  it('aborts a stalled stream with the idle watchdog and ends with a timeout error', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'stall', chunks: ['Once'] }]),
      limits: { streamIdleTimeoutMs: 20 },
    });

    const { turn, events } = await f.chat({ message: 'Tell me a story.' });

    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    const last = events.at(-1);
    expect(last?.type).toBe('error');
    expect(last?.type === 'error' && last.error).toMatchObject({
      kind: 'timeout',
      type: 'timeout_error',
    });
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({
      content: 'Once',
      stopReason: 'error',
    });
    expect(f.ledger.settled).toHaveLength(1);
  });
});
