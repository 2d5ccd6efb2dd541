import { describe, expect, it } from 'vitest';
import {
  chatEventEncoder,
  parseEventId,
} from '../../../../../functions/chat/protocols/chat-sse.js';
import { createTurnFollower } from '../../../../../functions/chat/turn/follow-turn.js';
import type { TurnEvent } from '../../../../../functions/chat/turn/turn-types.js';
import { newConversationId, newMessageId } from '../../../../../shared/domain/ids.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';
import { ZERO_USAGE } from '../../../../../shared/domain/usage.js';
import type { FinishTurn } from '../../../../../shared/ports/conversation-store.js';
import { createTurnRecovery } from '../../../../../shared/turns/recover-turn.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { InMemoryUsageLedger } from '../../../../fakes/in-memory-usage-ledger.js';
import { InMemoryUsageRecords } from '../../../../fakes/in-memory-usage-records.js';

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const USER = 'alice';

/** A turn begun at T0, its function streaming (or not): the pieces it saved so far. */
async function streamingTurn(pieces: string[]) {
  let nowMs = T0;
  const clock = () => nowMs;
  const store = new InMemoryConversationStore();
  const conversationId = newConversationId();
  const turnId = newMessageId();
  const seq = await store.beginTurn({
    userId: USER,
    conversationId,
    turnId,
    title: 'A story',
    userMessage: { id: newMessageId(), content: 'Tell me a story', tokens: 4 },
    nowIso: new Date(T0).toISOString(),
    leaseUntilMs: T0 + 20_000,
  });
  let offset = 0;
  for (const text of pieces) {
    await store.saveAnswerPiece({
      userId: USER,
      conversationId,
      turnId,
      answerSeq: seq + 1,
      offset,
      text,
      nowMs,
    });
    offset += text.length;
  }
  const recover = createTurnRecovery({
    store,
    ledger: new InMemoryUsageLedger(),
    usageRecords: new InMemoryUsageRecords(),
    prices: new PriceTable(),
    clock,
  });
  const follow = createTurnFollower({
    store,
    recover,
    admission: { countFreeRequest: async () => [] },
    clock,
    limits: { pollIntervalMs: 1, deadlineMarginMs: 1_000 },
  });
  return {
    store,
    conversationId,
    turnId,
    seq,
    advance: (ms: number) => {
      nowMs += ms;
    },
    /** The turn's own function storing its answer, a second in. */
    finish: (
      answer: Pick<FinishTurn['answer'], 'content' | 'stopReason' | 'usage' | 'costNanoUsd'> &
        Partial<FinishTurn['answer']>,
    ) =>
      store.finishTurn({
        userId: USER,
        conversationId,
        turnId,
        userSeq: seq,
        conversationCreatedAt: new Date(T0).toISOString(),
        answer: {
          id: turnId,
          model: 'claude-sonnet-4-6',
          usageEstimated: false,
          tokens: 1,
          ...answer,
        },
        nowIso: new Date(T0 + 1_000).toISOString(),
      }),
    follow: (offset = 0, remainingMs = 60_000, messageId?: string) =>
      follow({
        userId: USER,
        conversationId,
        after: { offset, messageId },
        remainingTimeMs: () => remainingMs,
      }),
    /** A client resuming after the `id:` of the last event it received. */
    resume: (lastEventId: string) =>
      follow({
        userId: USER,
        conversationId,
        after: parseEventId(lastEventId)!,
        remainingTimeMs: () => 60_000,
      }),
  };
}

async function take(events: AsyncIterable<TurnEvent>, count: number): Promise<TurnEvent[]> {
  const taken: TurnEvent[] = [];
  for await (const event of events) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

describe('following a turn', () => {
  it('reads each saved piece about once, not the whole answer at every poll', async () => {
    const t = await streamingTurn(['Once ']);
    // Pieces read, however the follower reads them: the whole answer's, or from an offset.
    let piecesRead = 0;
    const piecesOf = async () =>
      (await t.store.answerPieces(USER, t.conversationId, t.seq + 1, 0)).length;
    const { store } = t;
    const partialAnswer = store.partialAnswer.bind(store);
    store.partialAnswer = async (...args) => {
      piecesRead += await piecesOf();
      return partialAnswer(...args);
    };
    const answerPieces = store.answerPieces.bind(store);
    store.answerPieces = async (...args) => {
      const pieces = await answerPieces(...args);
      piecesRead += pieces.length;
      return pieces;
    };
    const followed = await t.follow();
    const events = followed!.events[Symbol.asyncIterator]();
    await events.next();

    let offset = 'Once '.length;
    let said = '';
    for (let i = 0; i < 200; i++) {
      const text = `word${i} `;
      await t.store.saveAnswerPiece({
        userId: USER,
        conversationId: t.conversationId,
        turnId: t.turnId,
        answerSeq: t.seq + 1,
        offset,
        text,
        nowMs: T0,
      });
      offset += text.length;
      const event = (await events.next()).value as TurnEvent;
      said += event.type === 'text' ? event.text : '';
    }

    expect(said).toBe(`Once ${Array.from({ length: 200 }, (_, i) => `word${i} `).join('')}`);
    // 201 pieces, each poll reading on from the last piece it read.
    expect(piecesRead).toBeLessThanOrEqual(2 * 201);
    await events.return?.(undefined);
  });

  it('replays what was said after the offset, then the stored end of the answer', async () => {
    const t = await streamingTurn(['Once ', 'upon ']);
    const followed = await t.follow(2);
    const events = followed!.events[Symbol.asyncIterator]();

    const first = [(await events.next()).value, (await events.next()).value];
    await t.finish({
      content: 'Once upon a time.',
      stopReason: 'end_turn',
      usage: {
        inputTokens: 9,
        outputTokens: 5,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
      usageEstimated: false,
      costNanoUsd: 1_000,
      tokens: 5,
    });
    const rest = await take({ [Symbol.asyncIterator]: () => events }, 2);

    expect(first).toEqual([
      { type: 'start', conversationId: t.conversationId, messageId: t.turnId, model: 'unknown' },
      { type: 'text', text: 'ce upon ' },
    ]);
    expect(rest).toEqual([
      { type: 'text', text: 'a time.' },
      expect.objectContaining({ type: 'done', stopReason: 'end_turn', costNanoUsd: 1_000 }),
    ]);
  });

  it('replays after the offset when the follower names the answer streaming', async () => {
    const t = await streamingTurn(['Once ', 'upon ']);

    const followed = await t.follow(5, 60_000, t.turnId);
    const [, text] = await take(followed!.events, 2);

    expect(followed!.fromOffset).toBe(5);
    expect(text).toEqual({ type: 'text', text: 'upon ' });
  });

  it('replays from the start for a follower whose answer has ended: this one is new to it', async () => {
    const t = await streamingTurn(['Once ', 'upon ']);

    const followed = await t.follow(5, 60_000, newMessageId());
    const [, text] = await take(followed!.events, 2);

    expect(followed!.fromOffset).toBe(0);
    expect(text).toEqual({ type: 'text', text: 'Once upon ' });
  });

  it('ends a turn whose function died as interrupted, with what it had streamed', async () => {
    const t = await streamingTurn(['Half a ', 'sentence']);
    const followed = await t.follow();
    t.advance(30_000);

    const events = await take(followed!.events, 10);

    expect(events.map((event) => event.type)).toEqual(['start', 'text', 'done']);
    expect(events[1]).toEqual({ type: 'text', text: 'Half a sentence' });
    expect(events[2]).toMatchObject({ stopReason: 'interrupted' });
  });

  it('waits, without spinning, on a dead turn that cannot be ended, until its own deadline', async () => {
    const t = await streamingTurn(['Half a ', 'sentence']);
    // Its answer's slot taken by another answer: a recovery cannot end it.
    await t.store.finishTurn({
      userId: USER,
      conversationId: t.conversationId,
      turnId: 'turn_other',
      userSeq: t.seq,
      conversationCreatedAt: new Date(T0).toISOString(),
      answer: {
        id: 'turn_other',
        content: 'Another answer.',
        model: 'claude-sonnet-4-6',
        stopReason: 'end_turn',
        usage: ZERO_USAGE,
        usageEstimated: false,
        costNanoUsd: 0,
        tokens: 3,
      },
      nowIso: new Date(T0 + 1_000).toISOString(),
    });
    t.advance(30_000);
    const followed = await t.follow(0, 1_000);

    const events = await take(followed!.events, 10);

    expect(events.map((event) => event.type)).toEqual(['start', 'text', 'error']);
    expect(events[2]).toMatchObject({
      error: { message: 'still streaming: resume again to follow it' },
    });
  });

  it('ends with an error that is not retryable when the conversation is deleted', async () => {
    const t = await streamingTurn(['Soon ', 'gone']);
    const followed = await t.follow();
    await t.store.deleteConversation(USER, t.conversationId);

    const events = await take(followed!.events, 10);

    expect(events.map((event) => event.type)).toEqual(['start', 'error']);
    const { error } = events[1] as Extract<TurnEvent, { type: 'error' }>;
    expect(error.message).toBe('the conversation was deleted');
    expect(error.retryable).toBe(false);
  });

  it('ends an answer that failed with its failure, as its own stream ended, not with done (it said done)', async () => {
    const t = await streamingTurn(['Once ']);
    const followed = await t.follow();
    await t.finish({
      content: 'Once upon',
      stopReason: 'error',
      usage: { ...ZERO_USAGE, outputTokens: 2 },
      usageEstimated: true,
      costNanoUsd: 30,
      tokens: 2,
      failure: { kind: 'model_unavailable', message: 'the model is retired' },
    });

    const events = await take(followed!.events, 10);

    expect(events.slice(1, -1)).toEqual([{ type: 'text', text: 'Once upon' }]);
    const end = events.at(-1) as Extract<TurnEvent, { type: 'error' }>;
    expect(end.type).toBe('error');
    expect(end.error).toMatchObject({
      type: 'not_found_error',
      message: 'the model is retired',
      retryable: false,
    });
    expect(end.billed).toEqual({
      messageId: followed!.messageId,
      usage: { ...ZERO_USAGE, outputTokens: 2 },
      usageEstimated: true,
      costNanoUsd: 30,
    });
  });

  it('ends an answer stored failed before its failure was kept with a retryable api_error, as before', async () => {
    const t = await streamingTurn(['Once ']);
    const followed = await t.follow();
    await t.finish({
      content: 'Once upon',
      stopReason: 'error',
      usage: { ...ZERO_USAGE, outputTokens: 2 },
      usageEstimated: true,
      costNanoUsd: 30,
      tokens: 2,
    });

    const events = await take(followed!.events, 10);

    const end = events.at(-1) as Extract<TurnEvent, { type: 'error' }>;
    expect(end.error).toMatchObject({ type: 'api_error', retryable: true });
  });

  it('ends with an error, and throws on for the log, when the answer cannot be read', async () => {
    const t = await streamingTurn(['Once ']);
    const followed = await t.follow();
    const failure = new Error('the table is unreachable');
    t.store.answerPieces = async () => {
      throw failure;
    };

    const seen: TurnEvent[] = [];
    const following = (async () => {
      for await (const event of followed!.events) seen.push(event);
    })();

    await expect(following).rejects.toBe(failure);
    expect(seen.map((event) => event.type)).toEqual(['start', 'error']);
    const { error } = seen[1] as Extract<TurnEvent, { type: 'error' }>;
    expect(error.message).toMatch(/resume again/);
    expect(error.cause).toBe(failure);
  });

  it('leaves a follower told to resume again, after a failed read, the id to resume with', async () => {
    const t = await streamingTurn(['Once ']);
    const followed = await t.follow();
    const answerPieces = t.store.answerPieces.bind(t.store);
    t.store.answerPieces = async () => {
      throw new Error('the table is unreachable');
    };
    const encode = chatEventEncoder(followed!.fromOffset);
    const frames: string[] = [];
    await (async () => {
      for await (const event of followed!.events) frames.push(encode(event));
    })().catch(() => undefined);
    const lastId = /^id: (.+)$/m.exec(frames.at(-1)!)?.[1];
    t.store.answerPieces = answerPieces;

    // The turn streams on: resuming after the error's id follows it again.
    const resumed = await t.resume(lastId!);

    expect(frames.at(-1)).toMatch(/resume again/);
    expect(resumed?.messageId).toBe(t.turnId);
  });

  it('finds nothing to follow in a conversation at rest', async () => {
    const t = await streamingTurn([]);
    await t.finish({
      content: 'Done.',
      stopReason: 'end_turn',
      usage: { ...ZERO_USAGE, inputTokens: 1, outputTokens: 1 },
      costNanoUsd: 1,
    });

    expect(await t.follow()).toBeUndefined();
  });
});
