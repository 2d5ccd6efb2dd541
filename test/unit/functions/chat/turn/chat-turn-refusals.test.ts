import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../../../../shared/domain/errors.js';
import type { BeginTurn } from '../../../../../shared/ports/conversation-store.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import {
  type ChatFixture,
  chatFixture,
  runToEnd,
  SONNET,
  USER,
  usageOf,
  windowAt,
} from './support.js';

const answering = () => new ScriptedModel(() => ({ kind: 'answer', chunks: ['ok'] }));

/** The store, failing the writes and reads a test turns off. */
class FlakyStore extends InMemoryConversationStore {
  failBeginTurn = false;
  failRecentMessages = false;

  override async beginTurn(turn: BeginTurn): Promise<number> {
    if (this.failBeginTurn) throw new Error('the conversations table is unreachable');
    return super.beginTurn(turn);
  }

  override async recentMessages(...args: Parameters<InMemoryConversationStore['recentMessages']>) {
    if (this.failRecentMessages) throw new Error('the conversations table is unreachable');
    return super.recentMessages(...args);
  }
}

/** Nothing left reserved in the ledger: what it holds is what was spent. */
async function expectNothingHeld(f: ChatFixture) {
  const month = await f.month();
  expect(month.heldNanoUsd).toBe(month.spentNanoUsd);
}

describe('a chat turn refused before the model call', () => {
  it.each([
    ['there is that is not allowed', 'claude-opus-4-5', ValidationError],
    ['there is not (neither allowed nor priced)', 'gpt-4', NotFoundError],
  ])('refuses a model %s, storing and holding nothing', async (_, model, refusal) => {
    const f = chatFixture({ model: answering() });

    const attempt = f.start({ message: 'hi', model });

    await expect(attempt).rejects.toThrow(refusal);
    await expect(attempt).rejects.toThrow(`"${model}"`);
    expect(f.model.requests).toEqual([]);
    expect(await f.conversations()).toEqual([]);
    expect((await f.month()).heldNanoUsd).toBe(0);
    expect(f.rateLimiter.countsOf(windowAt())).toBeUndefined();
  });

  it.each([
    ['an id that names no conversation', async () => `conv_${'0'.repeat(32)}`],
    ['a malformed id', async () => '../../etc'],
    [
      "another user's conversation",
      async (f: ChatFixture) =>
        (await f.chat({ userId: 'bob', message: 'mine' })).turn.conversationId,
    ],
  ])('answers %s with NotFoundError before any model call', async (_, conversationIdOf) => {
    const f = chatFixture({ model: answering() });
    const conversationId = await conversationIdOf(f);
    const callsBefore = f.model.requests.length;

    const attempt = f.start({ conversationId, message: 'hi' });

    await expect(attempt).rejects.toThrow(NotFoundError);
    expect(f.model.requests).toHaveLength(callsBefore);
    expect(await f.conversations(USER)).toEqual([]);
    expect((await f.month(USER)).heldNanoUsd).toBe(0);
    expect(f.observer.rejections).toEqual([]);
  });

  it('answers a turn in a conversation with a live turn with ConflictError before any model call', async () => {
    const f = chatFixture({ model: answering() });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;
    const live = await f.start({ conversationId, message: 'second' });
    const heldBefore = (await f.month()).heldNanoUsd;

    const racing = f.start({ conversationId, message: 'me too' });

    await expect(racing).rejects.toThrow(ConflictError);
    expect(f.model.requests).toHaveLength(2);
    expect((await f.month()).heldNanoUsd).toBe(heldBefore);
    expect(f.rateLimiter.countsOf(windowAt())?.requests).toBe(2);
    expect((await runToEnd(live)).at(-1)?.type).toBe('done');
    expect((await f.messages(conversationId)).map((m) => m.content)).not.toContain('me too');
  });

  it('takes over a conversation whose live turn outlived its lease (its function crashed)', async () => {
    const f = chatFixture({ model: answering(), remainingTimeMs: 60_000 });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;
    const crashed = await f.start({ conversationId, message: 'second' });
    f.clock.advance(60_001);

    const next = await f.start({ conversationId, message: 'third' });

    expect((await runToEnd(next)).at(-1)?.type).toBe('done');
    expect(f.model.requests).toHaveLength(3);
    await runToEnd(crashed);
  });

  it('lets one of two racing turns take the conversation, and gives the loser its hold back', async () => {
    const f = chatFixture({ model: answering() });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;

    const [a, b] = await Promise.allSettled([
      f.start({ conversationId, message: 'second' }),
      f.start({ conversationId, message: 'second, again' }),
    ]);
    const winners = [a, b].filter((result) => result.status === 'fulfilled');
    const losers = [a, b].filter((result) => result.status === 'rejected');
    for (const winner of winners) await runToEnd(winner.value);

    expect(winners).toHaveLength(1);
    expect(losers.map((loser) => loser.reason)).toEqual([expect.any(ConflictError)]);
    expect(f.model.requests).toHaveLength(2);
    // Both were admitted; the loser lost at beginTurn, and gave its hold and its request back.
    expect(f.rateLimiter.countsOf(windowAt())?.requests).toBe(2);
    await expectNothingHeld(f);
    expect((await f.month()).requests).toBe(2);
  });

  it('rejects a turn over budget before any model call, holding nothing and telling the observer', async () => {
    const f = chatFixture({ model: answering() });
    await f.ledger.setUserBudgetOverride(USER, 0.000001, f.clock());

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(f.model.requests).toEqual([]);
    expect((await f.month()).heldNanoUsd).toBe(0);
    expect(f.rateLimiter.countsOf(windowAt())).toMatchObject({ requests: 0, tokens: 0 });
    expect(f.rateLimiter.withdrawals).toEqual([
      { window: expect.objectContaining(windowAt()), tokens: expect.any(Number) },
    ]);
    expect(f.observer.rejections).toEqual([error]);
    expect(await f.conversations()).toEqual([]);
  });

  it('leaves an existing conversation as it was when a turn in it is refused over budget', async () => {
    const f = chatFixture({ model: answering() });
    const { turn } = await f.chat({ message: 'first' });
    const [before] = await f.conversations();
    const messagesBefore = await f.messages(turn.conversationId);
    await f.ledger.setUserBudgetOverride(USER, 0.000001, f.clock());

    const error = await f
      .start({ message: 'second', conversationId: turn.conversationId })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(await f.conversations()).toEqual([before]);
    expect(await f.messages(turn.conversationId)).toEqual(messagesBefore);
  });

  it('rejects a rate-limited turn before any model call, holding nothing and telling the observer', async () => {
    const limits = { requestsPerMinute: 1, tokensPerMinute: 1_000_000 };
    const f = chatFixture({ model: answering(), rateLimits: limits });
    // Another request of the user's took the minute's only slot.
    await f.rateLimiter.admit({ subject: `user:${USER}`, limits, tokens: 0, nowMs: f.clock() });

    const error = await f.start({ message: 'hi' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(f.model.requests).toEqual([]);
    expect((await f.month()).heldNanoUsd).toBe(0);
    expect(f.observer.rejections).toEqual([error]);
    expect(await f.conversations()).toEqual([]);
  });

  it('gives the admission back, calling no model, when a question in a conversation cannot be stored', async () => {
    const store = new FlakyStore();
    const f = chatFixture({ model: answering(), store });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;
    const before = await f.month();
    store.failBeginTurn = true;

    await expect(f.start({ conversationId, message: 'second' })).rejects.toThrow('unreachable');

    expect(f.model.requests).toHaveLength(1);
    expect(await f.month()).toEqual(before);
    expect(await f.messages(conversationId)).toHaveLength(2);
  });

  it("cuts a new conversation's model call, billing only its input, when its question cannot be stored", async () => {
    // A new conversation's model call starts while its question is being stored.
    const store = new FlakyStore();
    store.failBeginTurn = true;
    const model = new ScriptedModel([
      {
        kind: 'answer',
        chunks: ['never', 'shown'],
        usage: { inputTokens: 1_000, outputTokens: 2 },
      },
    ]);
    const f = chatFixture({ model, store });

    await expect(f.start({ message: 'hi' })).rejects.toThrow('unreachable');

    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]?.signal?.aborted).toBe(true);
    // Its input and first output token, as Claude reported them when it started.
    const billed = f.prices.costNanoUsd(SONNET, usageOf({ inputTokens: 1_000, outputTokens: 1 }));
    expect(await f.month()).toMatchObject({
      requests: 1,
      inputTokens: 1_000,
      spentNanoUsd: billed,
      heldNanoUsd: billed,
    });
    expect(f.observer.calls).not.toContain('started');
    expect(await f.conversations()).toEqual([]);
    // Reported like any call, as interrupted.
    expect(f.usageRecords.recorded).toEqual([
      expect.objectContaining({
        api: 'chat',
        principal: USER,
        costNanoUsd: billed,
        stopReason: 'interrupted',
      }),
    ]);
  });

  it('gives the admission back when the history cannot be loaded', async () => {
    const store = new FlakyStore();
    const f = chatFixture({ model: answering(), store });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;
    const tokensUsed = f.rateLimiter.countsOf(windowAt())?.tokens;
    store.failRecentMessages = true;

    await expect(f.start({ conversationId, message: 'second' })).rejects.toThrow('unreachable');

    expect(f.model.requests).toHaveLength(1);
    await expectNothingHeld(f);
    expect(f.rateLimiter.countsOf(windowAt())?.tokens).toBe(tokensUsed);
    expect(await f.messages(conversationId)).toHaveLength(2);
  });
});
