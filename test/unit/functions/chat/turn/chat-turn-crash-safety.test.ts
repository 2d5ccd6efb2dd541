import { describe, expect, it, vi } from 'vitest';
import { AnswerPieces, type Piece } from '../../../../../functions/chat/turn/answer-pieces.js';
import { newConversationId, newMessageId } from '../../../../../shared/domain/ids.js';
import { turnHolder } from '../../../../../shared/turns/recover-turn.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import {
  chatFixture,
  LIMITS,
  type ManualClock,
  NOW_MS,
  runToEnd,
  SONNET,
  streamedText,
  USER,
} from './support.js';

describe('a streaming answer that must outlive its function', () => {
  it('is saved piece by piece while it streams, with the usage Claude reported at the start', async () => {
    const f = chatFixture({
      model: new ScriptedModel([{ kind: 'stall', chunks: ['Once', ' upon', ' a time'] }]),
    });
    const turn = await f.start({ message: 'Tell me a story' });
    const running = runToEnd(turn);
    const answerSeq = (await f.store.getConversation(USER, turn.conversationId))!.lastSeq;

    await vi.waitFor(async () =>
      expect((await f.store.partialAnswer(USER, turn.conversationId, answerSeq)).text).toBe(
        'Once upon a time',
      ),
    );
    const saved = await f.store.partialAnswer(USER, turn.conversationId, answerSeq);
    expect(saved.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: 1 });

    await f.store.requestStop(USER, turn.conversationId, NOW_MS);
    expect((await running).at(-1)).toMatchObject({ type: 'done', stopReason: 'stopped' });
  });

  it('stops upstream, and keeps its answer as interrupted, once another turn took the conversation', async () => {
    const { f, turn, running } = await stalledStory();
    // Its heartbeats failed long enough for the lease to run out, and a new turn took over.
    f.clock.advance(41);
    await f.store.beginTurn({
      userId: USER,
      conversationId: turn.conversationId,
      existing: await f.store.getConversation(USER, turn.conversationId),
      turnId: newMessageId(),
      title: 'x',
      userMessage: { id: newMessageId(), content: 'Me next', tokens: 2 },
      nowIso: new Date(NOW_MS + 41).toISOString(),
      leaseUntilMs: NOW_MS + 100_000,
    });

    const events = await running;

    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    await expectKeptAsInterrupted(f, turn, events);
  });

  it('stops upstream, and keeps what it showed, before its lease can run out unrenewed (heartbeats failing)', async () => {
    const { f, turn, running } = await stalledStory();
    // Throttled: every heartbeat fails without saying whether the lease is still held.
    vi.spyOn(f.store, 'renewLease').mockRejectedValue(new Error('throttled'));
    // Within one heartbeat of the lease's end, as last renewed (at the turn's start).
    f.clock.advance(31);

    const events = await running;

    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
    await expectKeptAsInterrupted(f, turn, events);
    // Stored while it still held the conversation: no one else could have taken it over.
    expect((await f.store.getConversation(USER, turn.conversationId))?.activeTurn).toBeUndefined();
  });

  it('shows nothing that came while its function stalled past its lease (a recovery may have stored the answer without it), and stops upstream', async () => {
    let wake = () => {};
    const f = chatFixture({
      model: new ScriptedModel([
        {
          kind: 'paused',
          chunks: ['Once', ' upon'],
          until: new Promise<void>((resolve) => {
            wake = resolve;
          }),
          after: [' a', ' time'],
        },
      ]),
      limits: { turnLeaseMs: 40 },
    });
    const { running } = await storyShown(f);

    // Nothing of the function ran past its lease; as it wakes, the rest of the answer is there.
    f.clock.advance(41);
    wake();
    const events = await running;

    expect(streamedText(events)).toBe('Once upon');
    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'interrupted' });
    expect(f.model.requests[0]?.signal?.aborted).toBe(true);
  });

  it('stops before its lease can run out when its last heartbeat before then hangs unanswered', async () => {
    const { f, turn, running } = await stalledStory();
    vi.spyOn(f.store, 'renewLease').mockReturnValue(new Promise<boolean>(() => {}));
    f.clock.advance(31);

    const events = await running;

    await expectKeptAsInterrupted(f, turn, events);
  });

  it('streams on when its last heartbeat before the lease could run out is answered, though two before it failed', async () => {
    const { f, turn, running } = await stalledStory();
    // A throttling spike: two heartbeats fail, the next goes through.
    const renew = vi
      .spyOn(f.store, 'renewLease')
      .mockRejectedValueOnce(new Error('throttled'))
      .mockRejectedValueOnce(new Error('throttled'));
    await vi.waitFor(() => expect(renew.mock.calls.length).toBeGreaterThanOrEqual(2));
    // The next heartbeat is the last before the lease, renewed at the start, could run out.
    f.clock.advance(31);
    await vi.waitFor(() => expect(renew.mock.calls.length).toBeGreaterThanOrEqual(4));

    await f.store.requestStop(USER, turn.conversationId, f.clock());
    const events = await running;

    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'stopped' });
  });

  it('streams on when it took most of its first lease to start: its first heartbeat renews it', async () => {
    const { f, turn, running } = await stalledStory();
    const renew = vi.spyOn(f.store, 'renewLease');
    // Its history, admission and question took over half its lease (slow DynamoDB).
    f.clock.advance(31);
    await vi.waitFor(() => expect(renew.mock.calls.length).toBeGreaterThanOrEqual(2));

    await f.store.requestStop(USER, turn.conversationId, f.clock());
    const events = await running;

    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'stopped' });
  });

  it('holds its budget until the function ends, counted from when the conversation was read, not from when the request came', async () => {
    // Reading the conversation takes 2 s: what waiting for a stopped answer to be stored takes.
    let slowRead: ManualClock | undefined;
    class SlowStore extends InMemoryConversationStore {
      override async getConversation(userId: string, conversationId: string) {
        slowRead?.advance(2_000);
        slowRead = undefined;
        return super.getConversation(userId, conversationId);
      }
    }
    const f = chatFixture({
      model: new ScriptedModel(() => ({ kind: 'answer', chunks: ['ok'] })),
      store: new SlowStore(),
      remainingTimeMs: 60_000,
    });
    const { conversationId } = (await f.chat({ message: 'first' })).turn;
    slowRead = f.clock;

    const turn = await f.start({ conversationId, message: 'second' });
    const [held] = await f.ledger.listReservations();
    await runToEnd(turn);

    // What Lambda had left when the turn asked for its hold, from then.
    expect(held?.expiresAtMs).toBe(NOW_MS + 2_000 + 60_000);
  });

  it('keeps the text of a turn whose function died, and settles its hold, before the next turn answers', async () => {
    const f = chatFixture({ model: new ScriptedModel([{ kind: 'answer', chunks: ['Fine.'] }]) });
    // A turn begun with its reservation, saved as it streamed, then left by its function.
    const conversationId = newConversationId();
    const reservation = await f.ledger.reserve({
      userId: USER,
      amountNanoUsd: 40_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs: NOW_MS,
      expiresAtMs: NOW_MS + 300_000,
      holder: turnHolder(USER, conversationId),
    });
    const userSeq = await f.store.beginTurn({
      userId: USER,
      conversationId,
      turnId: newMessageId(),
      title: 'hi',
      userMessage: { id: newMessageId(), content: 'hi', tokens: 1 },
      nowIso: new Date(NOW_MS).toISOString(),
      leaseUntilMs: NOW_MS + LIMITS.turnLeaseMs,
      hold: { reservation, model: SONNET },
    });
    await f.store.saveAnswerPiece({
      userId: USER,
      conversationId,
      turnId: 'turn_crashed',
      answerSeq: userSeq + 1,
      offset: 0,
      text: 'Half an ans',
      nowMs: NOW_MS,
    });
    f.clock.advance(LIMITS.turnLeaseMs + 1);

    const { events } = await f.chat({ conversationId, message: 'Are you there?' });

    expect(streamedText(events)).toBe('Fine.');
    expect(
      (await f.messages(conversationId)).map((m) => [m.role, m.content, m.stopReason]),
    ).toEqual([
      ['user', 'hi', undefined],
      ['assistant', 'Half an ans', 'interrupted'],
      ['user', 'Are you there?', undefined],
      ['assistant', 'Fine.', 'end_turn'],
    ]);
    // Nothing of the dead turn's worst case is still held.
    const month = await f.month();
    expect(month.heldNanoUsd).toBe(month.spentNanoUsd);
    expect(month.requests).toBe(2);
  });
});

describe('AnswerPieces', () => {
  const usage = {
    inputTokens: 9,
    outputTokens: 1,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
  };
  /** Pieces saved to memory, flushed every second (the tests end sooner). */
  const savingPieces = () => {
    const saved: unknown[] = [];
    const pieces = new AnswerPieces(
      async (piece) => void saved.push(piece),
      () => {},
      1_000,
    );
    return { saved, pieces };
  };

  it("saves the first piece once the answer's first bytes had their turn of the event loop", async () => {
    const { saved, pieces } = savingPieces();

    pieces.begin(usage);
    await Promise.resolve();
    expect(saved).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toEqual([{ offset: 0, text: '', usage }]);
    await pieces.end();
    expect(saved).toHaveLength(1);
  });

  it('saves the first piece at the end of an answer over before its turn came', async () => {
    const { saved, pieces } = savingPieces();

    pieces.begin(usage);
    await pieces.end();

    expect(saved).toEqual([{ offset: 0, text: '', usage }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toHaveLength(1);
  });

  it("saves pieces in order, the first with the usage, and a failed piece's text again with the next: no hole", async () => {
    const saved: Piece[] = [];
    const errors: unknown[] = [];
    let failNext = false;
    const pieces = new AnswerPieces(
      async (piece) => {
        if (failNext) {
          failNext = false;
          throw new Error('throttled');
        }
        saved.push(piece);
      },
      (error) => errors.push(error),
      5,
    );
    pieces.begin(usage);
    await new Promise((resolve) => setImmediate(resolve));
    pieces.add('Once');
    await vi.waitFor(() => expect(saved).toHaveLength(2));
    failNext = true;
    pieces.add(' upon');
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    pieces.add(' a time');
    await vi.waitFor(() =>
      expect(saved.map((piece) => piece.text).join('')).toBe('Once upon a time'),
    );
    await pieces.end();

    expect(saved.slice(0, 2)).toEqual([
      { offset: 0, text: '', usage },
      { offset: 0, text: 'Once', usage },
    ]);
    // Each piece starts where the text saved before it ends.
    let end = 0;
    for (const piece of saved.slice(1)) {
      expect(piece.offset).toBe(end);
      end += piece.text.length;
    }
  });

  it('tries a failing save again once an interval, not once for each interval it was stuck', async () => {
    const attempts: Piece[] = [];
    let unstick: (() => void) | undefined;
    const pieces = new AnswerPieces(
      async (piece) => {
        attempts.push(piece);
        if (piece.text === '') return;
        // The first save of text hangs (throttled, the SDK retrying), then every save fails.
        if (attempts.length === 2) await new Promise<void>((resolve) => (unstick = resolve));
        throw new Error('throttled');
      },
      () => {},
      5,
    );
    pieces.begin(usage);
    await new Promise((resolve) => setImmediate(resolve));
    pieces.add('Once');
    await vi.waitFor(() => expect(unstick).toBeDefined());
    // Ten intervals pass while that save hangs, and no more text comes.
    await new Promise((resolve) => setTimeout(resolve, 60));

    unstick!();
    await new Promise((resolve) => setImmediate(resolve));

    // The text is tried again once (and at most once more, for an interval just over), not
    // ten times back to back against a throttled table.
    expect(attempts.length).toBeLessThanOrEqual(4);
    await pieces.end();
  });
});

/** A turn telling a story that stalls after its first words, on a 40 ms lease. */
async function stalledStory() {
  const f = chatFixture({
    model: new ScriptedModel([{ kind: 'stall', chunks: ['Once', ' upon'] }]),
    limits: { turnLeaseMs: 40 },
  });
  return { f, ...(await storyShown(f)) };
}

/** The story's turn, once its first words were shown (and saved) while it held the conversation. */
async function storyShown(f: ReturnType<typeof chatFixture>) {
  const turn = await f.start({ message: 'Tell me a story' });
  const running = runToEnd(turn);
  const answerSeq = (await f.store.getConversation(USER, turn.conversationId))!.lastSeq;
  await vi.waitFor(async () =>
    expect((await f.store.partialAnswer(USER, turn.conversationId, answerSeq)).text).toBe(
      'Once upon',
    ),
  );
  return { turn, running };
}

/** The turn ended as interrupted, and its answer is stored with the words it showed. */
async function expectKeptAsInterrupted(
  f: Awaited<ReturnType<typeof stalledStory>>['f'],
  turn: Awaited<ReturnType<typeof stalledStory>>['turn'],
  events: Awaited<ReturnType<typeof runToEnd>>,
) {
  expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'interrupted' });
  const answer = (await f.messages(turn.conversationId)).find((m) => m.id === turn.messageId);
  expect(answer).toMatchObject({ content: 'Once upon', stopReason: 'interrupted' });
}
