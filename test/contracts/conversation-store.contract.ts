import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Conversation } from '../../shared/domain/conversation.js';
import { ConflictError, ValidationError } from '../../shared/domain/errors.js';
import { newConversationId, newMessageId } from '../../shared/domain/ids.js';
import type {
  BeginTurn,
  ConversationStore,
  FinishTurn,
} from '../../shared/ports/conversation-store.js';

export interface ConversationStoreSubject {
  store: ConversationStore;
}

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const LEASE_MS = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const newUserId = () => `contract-${randomUUID()}`;

function beginOf(
  fields: Pick<BeginTurn, 'userId' | 'conversationId'> & Partial<BeginTurn>,
): BeginTurn {
  const nowMs = fields.nowIso ? Date.parse(fields.nowIso) : T0;
  return {
    turnId: `turn_${randomUUID()}`,
    title: 'Trip to Lisbon',
    userMessage: { id: newMessageId(), content: 'Where should I eat?', tokens: 5 },
    nowIso: iso(nowMs),
    leaseUntilMs: nowMs + LEASE_MS,
    ...fields,
  };
}

function finishOf(begin: BeginTurn, userSeq: number, fields: Partial<FinishTurn> = {}): FinishTurn {
  return {
    userId: begin.userId,
    conversationId: begin.conversationId,
    turnId: begin.turnId,
    userSeq,
    conversationCreatedAt: begin.existing?.createdAt ?? begin.nowIso,
    answer: {
      id: newMessageId(),
      content: 'Try the bakery by the river.',
      model: 'claude-sonnet-4-6',
      stopReason: 'end_turn',
      usage: {
        inputTokens: 40,
        outputTokens: 7,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
      usageEstimated: false,
      costNanoUsd: 225_000,
      tokens: 7,
    },
    nowIso: iso(Date.parse(begin.nowIso) + 1_000),
    ...fields,
  };
}

/**
 * The ConversationStore port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * Every test works on a user of its own, so one store can serve the whole suite.
 */
export function conversationStoreContract(subject: () => Promise<ConversationStoreSubject>) {
  let store: ConversationStore;
  let userId: string;
  beforeEach(async () => {
    ({ store } = await subject());
    userId = newUserId();
  });

  /** A turn begun in a conversation since deleted, and one in the conversation made again under its id. */
  async function remadeConversation() {
    const deleted = beginOf({ userId, conversationId: newConversationId() });
    const seq = await store.beginTurn(deleted);
    await store.deleteConversation(userId, deleted.conversationId);
    const again = beginOf({
      userId,
      conversationId: deleted.conversationId,
      nowIso: iso(T0 + 500),
    });
    const againSeq = await store.beginTurn(again);
    return { deleted, seq, again, againSeq };
  }

  /** A conversation of finished turns, one a minute from `startMs`, each message `tokens[i]`. */
  async function converse(
    options: { userId?: string; conversationId?: string; tokens?: number[]; startMs?: number } = {},
  ): Promise<Conversation> {
    const owner = options.userId ?? userId;
    const conversationId = options.conversationId ?? newConversationId();
    const tokens = options.tokens ?? [5, 7];
    const startMs = options.startMs ?? T0;
    let existing: Conversation | undefined;
    for (let i = 0; i < tokens.length; i += 2) {
      const nowMs = startMs + i * 60_000;
      const begin = beginOf({
        userId: owner,
        conversationId,
        existing,
        nowIso: iso(nowMs),
        userMessage: { id: newMessageId(), content: `question ${i}`, tokens: tokens[i]! },
      });
      const seq = await store.beginTurn(begin);
      if (i + 1 < tokens.length) {
        const finish = finishOf(begin, seq);
        await store.finishTurn({
          ...finish,
          answer: { ...finish.answer, content: `answer ${i + 1}`, tokens: tokens[i + 1]! },
        });
      }
      existing = await store.getConversation(owner, conversationId);
    }
    return existing!;
  }

  describe('beginTurn', () => {
    it('starts a new conversation that the turn holds, with the question at seq 1', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });

      const seq = await store.beginTurn(begin);

      expect(seq).toBe(1);
      expect(await store.getConversation(userId, begin.conversationId)).toEqual({
        id: begin.conversationId,
        userId,
        title: begin.title,
        createdAt: begin.nowIso,
        updatedAt: begin.nowIso,
        lastSeq: 2,
        messageCount: 1,
        activeTurn: { turnId: begin.turnId, leaseUntilMs: begin.leaseUntilMs },
        uncompactedTokens: 5,
      });
      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items).toEqual([
        {
          id: begin.userMessage!.id,
          seq: 1,
          role: 'user',
          content: begin.userMessage!.content,
          createdAt: begin.nowIso,
        },
      ]);
    });

    it('refuses to start a new conversation under an id that exists', async () => {
      const conversation = await converse();

      const again = store.beginTurn(beginOf({ userId, conversationId: conversation.id }));

      await expect(again).rejects.toBeInstanceOf(ConflictError);
    });

    it('refuses a turn while another live turn holds the conversation', async () => {
      const first = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(first);
      const existing = await store.getConversation(userId, first.conversationId);

      const second = store.beginTurn(
        beginOf({
          userId,
          conversationId: first.conversationId,
          existing,
          nowIso: iso(T0 + 1_000),
        }),
      );

      await expect(second).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getConversation(userId, first.conversationId)).toEqual(existing);
    });

    it('refuses a turn when the conversation moved since it was read', async () => {
      const stale = await converse();
      const moved = beginOf({
        userId,
        conversationId: stale.id,
        existing: stale,
        nowIso: iso(T0 + 120_000),
      });
      await store.finishTurn(finishOf(moved, await store.beginTurn(moved)));

      const late = store.beginTurn(
        beginOf({ userId, conversationId: stale.id, existing: stale, nowIso: iso(T0 + 600_000) }),
      );

      await expect(late).rejects.toBeInstanceOf(ConflictError);
    });

    it('takes over a conversation whose turn lease has run out', async () => {
      const crashed = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(crashed);
      const existing = await store.getConversation(userId, crashed.conversationId);

      const next = beginOf({
        userId,
        conversationId: crashed.conversationId,
        existing,
        nowIso: iso(crashed.leaseUntilMs + 1),
      });
      const seq = await store.beginTurn(next);

      expect(seq).toBe(3);
      expect(await store.getConversation(userId, crashed.conversationId)).toMatchObject({
        lastSeq: 4,
        messageCount: 2,
        activeTurn: { turnId: next.turnId, leaseUntilMs: next.leaseUntilMs },
      });
    });

    it('still refuses a turn at the very millisecond the lease ends', async () => {
      const first = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(first);

      const second = store.beginTurn(
        beginOf({
          userId,
          conversationId: first.conversationId,
          existing: await store.getConversation(userId, first.conversationId),
          nowIso: iso(first.leaseUntilMs),
        }),
      );

      await expect(second).rejects.toBeInstanceOf(ConflictError);
    });

    it('refuses a turn in a conversation deleted since it was read', async () => {
      const conversation = await converse();
      await store.deleteConversation(userId, conversation.id);

      const turn = store.beginTurn(
        beginOf({ userId, conversationId: conversation.id, existing: conversation }),
      );

      await expect(turn).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getConversation(userId, conversation.id)).toBeUndefined();
    });

    it('continues a finished conversation at the next free slot', async () => {
      const conversation = await converse({ tokens: [5, 7] });
      const next = beginOf({
        userId,
        conversationId: conversation.id,
        existing: conversation,
        nowIso: iso(T0 + 120_000),
        userMessage: { id: newMessageId(), content: 'And for dinner?', tokens: 4 },
      });

      const seq = await store.beginTurn(next);

      expect(seq).toBe(3);
      expect(await store.getConversation(userId, conversation.id)).toMatchObject({
        createdAt: iso(T0),
        updatedAt: next.nowIso,
        lastSeq: 4,
        messageCount: 3,
        uncompactedTokens: 16,
        activeTurn: { turnId: next.turnId },
      });
    });
  });

  describe('message', () => {
    it('reads one message by its sequence number, as the listing has it', async () => {
      const conversation = await converse({ tokens: [5, 7] });
      const { items } = await store.listMessages(userId, conversation.id, { limit: 10 });

      expect(await store.message(userId, conversation.id, 2)).toEqual(items[1]);
      expect(await store.message(userId, conversation.id, 3)).toBeUndefined();
      expect(await store.message(newUserId(), conversation.id, 1)).toBeUndefined();
    });
  });

  describe('regenerating and editing', () => {
    it('answers the last question again: no new question, the old answer superseded', async () => {
      const before = await converse({ tokens: [5, 7] });
      const begin = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        userMessage: undefined,
        supersedeFrom: 2,
      });

      const seq = await store.beginTurn(begin);
      await store.finishTurn(finishOf(begin, seq));

      expect(seq).toBe(2);
      const after = await store.getConversation(userId, before.id);
      expect(after).toMatchObject({ lastSeq: 3, messageCount: 3, superseded: [[2, 2]] });
      const { items: window } = await store.recentMessages(userId, before.id, {
        afterSeq: 0,
        maxTokens: 1_000,
        skip: after?.superseded,
      });
      expect(window.map((message) => [message.seq, message.role])).toEqual([
        [1, 'user'],
        [3, 'assistant'],
      ]);
    });

    it('replaces a question and what followed it with an edited one, keeping them all', async () => {
      const before = await converse({ tokens: [5, 7, 3, 4] });
      const begin = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        supersedeFrom: 3,
      });

      const seq = await store.beginTurn(begin);

      expect(seq).toBe(5);
      const after = await store.getConversation(userId, before.id);
      expect(after?.superseded).toEqual([[3, 4]]);
      const { items } = await store.listMessages(userId, before.id, { limit: 10 });
      expect(items.map((message) => message.seq)).toEqual([1, 2, 3, 4, 5]);
      const { items: window } = await store.recentMessages(userId, before.id, {
        afterSeq: 0,
        maxTokens: 1_000,
        skip: after?.superseded,
      });
      expect(window.map((message) => message.seq)).toEqual([1, 2, 5]);
    });

    it('leaves superseded messages out of the token window without counting them', async () => {
      const before = await converse({ tokens: [5, 7, 300, 400] });
      const begin = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        supersedeFrom: 3,
      });
      await store.beginTurn(begin);
      const after = await store.getConversation(userId, before.id);

      const { items: window } = await store.recentMessages(userId, before.id, {
        afterSeq: 0,
        maxTokens: 20,
        skip: after?.superseded,
      });

      expect(window.map((message) => message.seq)).toEqual([1, 2, 5]);
    });

    it('refuses to replace messages a summary saved since the conversation was read covers', async () => {
      const before = await converse({ tokens: [5, 7, 3, 4, 6, 8] });
      // A compaction lands between the edit's read of the conversation and its write.
      await store.saveSummary(
        userId,
        before.id,
        { text: 'They asked 0 and 2.', throughSeq: 4, tokensCompacted: 19 },
        { createdAt: before.createdAt, summaryThroughSeq: 0, supersededRanges: [] },
      );
      const edit = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        supersedeFrom: 3,
      });

      await expect(store.beginTurn(edit)).rejects.toBeInstanceOf(ConflictError);
      // Past the summary, the same stale read still replaces.
      const regenerate = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        userMessage: undefined,
        supersedeFrom: 6,
      });
      expect(await store.beginTurn(regenerate)).toBe(6);
      expect((await store.getConversation(userId, before.id))?.superseded).toEqual([[6, 6]]);
    });

    it('gives the superseded ranges back when a regenerate or edit is abandoned', async () => {
      const before = await converse({ tokens: [5, 7] });
      const begin = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        supersedeFrom: 1,
      });
      await store.beginTurn(begin);

      await store.abandonTurn(begin);

      expect(await store.getConversation(userId, before.id)).toEqual(before);
    });

    it('retitles a conversation whose first question is edited, and not otherwise', async () => {
      const first = await converse({ tokens: [5, 7] });
      const second = await converse({ tokens: [5, 7, 3, 4] });
      const editFirst = beginOf({
        userId,
        conversationId: first.id,
        existing: first,
        supersedeFrom: 1,
        retitle: true,
        title: 'Lunch in Porto',
      });
      const editLater = beginOf({
        userId,
        conversationId: second.id,
        existing: second,
        supersedeFrom: 3,
        title: 'Not a title',
      });

      await store.beginTurn(editFirst);
      await store.beginTurn(editLater);

      expect((await store.getConversation(userId, first.id))?.title).toBe('Lunch in Porto');
      expect((await store.getConversation(userId, second.id))?.title).toBe(second.title);
      await store.abandonTurn(editFirst);
      expect(await store.getConversation(userId, first.id)).toEqual(first);
    });

    it('finds a message by its id', async () => {
      const conversation = await converse({ tokens: [5, 7] });
      const { items } = await store.listMessages(userId, conversation.id, { limit: 10 });

      expect(await store.findMessage(userId, conversation.id, items[1]!.id)).toEqual(items[1]);
      expect(await store.findMessage(userId, conversation.id, 'msg_none')).toBeUndefined();
    });

    it("finds a question by its client's id, the newest that carries it (an edit keeps the id)", async () => {
      const conversationId = newConversationId();
      const ask = async (clientMessageId: string, existing?: Conversation) => {
        const begin = beginOf({
          userId,
          conversationId,
          existing,
          userMessage: { id: newMessageId(), content: clientMessageId, tokens: 3, clientMessageId },
        });
        const seq = await store.beginTurn(begin);
        await store.finishTurn(finishOf(begin, seq));
        return (await store.getConversation(userId, conversationId))!;
      };
      const first = await ask('q-first');
      const second = await ask('q-edited', first);
      const edited = await ask('q-edited', second);
      const { items } = await store.listMessages(userId, conversationId, { limit: 10 });

      expect(await store.findMessage(userId, conversationId, 'q-first')).toEqual(items[0]);
      expect(await store.findMessage(userId, conversationId, 'q-edited')).toEqual(items[4]);
      expect(await store.findMessage(userId, conversationId, 'q-edited', 4)).toEqual(items[4]);
      expect(await store.findMessage(userId, conversationId, 'q-first', 2)).toBeUndefined();
      expect(edited.lastSeq).toBe(6);
    });

    it('finds a message by its id only from the sequence number asked', async () => {
      const conversation = await converse({ tokens: [5, 7, 9, 11] });
      const { items } = await store.listMessages(userId, conversation.id, { limit: 10 });

      expect(await store.findMessage(userId, conversation.id, items[3]!.id, 4)).toEqual(items[3]);
      expect(await store.findMessage(userId, conversation.id, items[2]!.id, 4)).toBeUndefined();
    });
  });

  describe('abandonTurn', () => {
    it('deletes a conversation its refused first turn started', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(begin);

      expect(await store.abandonTurn(begin)).toBe(true);

      expect(await store.getConversation(userId, begin.conversationId)).toBeUndefined();
      expect((await store.listConversations(userId, { limit: 10 })).items).toEqual([]);
      expect(await store.abandonTurn(begin)).toBe(false);
    });

    it('gives an existing conversation back as it was, its question removed', async () => {
      const before = await converse({ tokens: [5, 7] });
      const { items: messagesBefore } = await store.listMessages(userId, before.id, { limit: 10 });
      const begin = beginOf({
        userId,
        conversationId: before.id,
        existing: before,
        nowIso: iso(T0 + 3_600_000),
      });
      await store.beginTurn(begin);

      expect(await store.abandonTurn(begin)).toBe(true);

      expect(await store.getConversation(userId, before.id)).toEqual(before);
      expect((await store.listMessages(userId, before.id, { limit: 10 })).items).toEqual(
        messagesBefore,
      );
      const next = beginOf({ userId, conversationId: before.id, existing: before });
      expect(await store.beginTurn(next)).toBe(before.lastSeq + 1);
    });

    it('keeps a summary saved while the turn was begun, and what it took off the count', async () => {
      const before = await converse({ tokens: [5, 7, 10, 20] });
      const begin = beginOf({ userId, conversationId: before.id, existing: before });
      await store.beginTurn(begin);
      await store.saveSummary(
        userId,
        before.id,
        { text: 'They asked 0.', throughSeq: 2, tokensCompacted: 12 },
        { createdAt: before.createdAt, summaryThroughSeq: 0, supersededRanges: [] },
      );

      expect(await store.abandonTurn(begin)).toBe(true);

      expect(await store.getConversation(userId, before.id)).toMatchObject({
        lastSeq: 4,
        messageCount: 4,
        summary: { text: 'They asked 0.', throughSeq: 2 },
        uncompactedTokens: 30,
      });
    });

    it('keeps the count of an answer stored late by the turn it took over', async () => {
      const first = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(first);
      const taken = (await store.getConversation(userId, first.conversationId))!;
      const next = beginOf({
        userId,
        conversationId: first.conversationId,
        existing: taken,
        nowIso: iso(T0 + LEASE_MS + 1),
      });
      await store.beginTurn(next);
      const late = finishOf(first, seq);
      await store.finishTurn(late);

      expect(await store.abandonTurn(next)).toBe(true);

      expect(await store.getConversation(userId, first.conversationId)).toMatchObject({
        lastSeq: 2,
        messageCount: 2,
        uncompactedTokens: 5 + late.answer.tokens,
      });
    });

    it('undoes nothing once the turn no longer holds the conversation', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      await store.finishTurn(finishOf(begin, seq));

      expect(await store.abandonTurn(begin)).toBe(false);

      expect(
        (await store.listMessages(userId, begin.conversationId, { limit: 10 })).items,
      ).toHaveLength(2);
    });
  });

  describe('finishTurn', () => {
    it('stores the answer after the question and frees the conversation', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);

      await store.finishTurn(finish);

      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items[1]).toEqual({
        id: finish.answer.id,
        seq: 2,
        role: 'assistant',
        content: finish.answer.content,
        createdAt: finish.nowIso,
        model: finish.answer.model,
        stopReason: 'end_turn',
        usage: finish.answer.usage,
        costNanoUsd: finish.answer.costNanoUsd,
      });
      const conversation = await store.getConversation(userId, begin.conversationId);
      expect(conversation).toMatchObject({
        lastSeq: 2,
        messageCount: 2,
        uncompactedTokens: 12,
        updatedAt: finish.nowIso,
      });
      expect(conversation?.activeTurn).toBeUndefined();
    });

    it('sets the replaced messages the turn ends with, only while it holds the conversation', async () => {
      const before = await converse({ tokens: [5, 7] });
      const regenerate = (leaseUntilMs: number) =>
        beginOf({
          userId,
          conversationId: before.id,
          existing: before,
          userMessage: undefined,
          supersedeFrom: 2,
          leaseUntilMs,
        });
      const begin = regenerate(T0 + LEASE_MS);
      const seq = await store.beginTurn(begin);
      const gaveNothing = (finish: FinishTurn) => ({
        ...finish,
        answer: { ...finish.answer, content: '', tokens: 0, stopReason: 'error' as const },
        superseded: [[3, 3]] as const,
      });

      await store.finishTurn(gaveNothing(finishOf(begin, seq)));

      const after = await store.getConversation(userId, before.id);
      expect(after).toMatchObject({ lastSeq: 3, messageCount: 3, superseded: [[3, 3]] });
      expect(after?.activeTurn).toBeUndefined();

      // Its lease ran out and another turn took the conversation: the answer is stored, the
      // other turn's replaced messages are left alone.
      const late = regenerate(T0);
      const lateSeq = await store.beginTurn({ ...late, existing: after! });
      const current = await store.getConversation(userId, before.id);
      const taker = beginOf({
        userId,
        conversationId: before.id,
        existing: current!,
        nowIso: iso(T0 + 1),
      });
      await store.beginTurn(taker);
      await store.finishTurn({ ...gaveNothing(finishOf(late, lateSeq)), superseded: [[9, 9]] });

      expect((await store.getConversation(userId, before.id))?.superseded).toEqual([
        [3, 3],
        [2, 3],
      ]);
    });

    it("keeps a failed answer's failure, as its stream told it", async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);
      const failure = { kind: 'overloaded', message: 'the model is overloaded' } as const;

      await store.finishTurn({
        ...finish,
        answer: { ...finish.answer, stopReason: 'error', failure },
      });

      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items[1]).toMatchObject({ stopReason: 'error', failure });
      expect(await store.message(userId, begin.conversationId, 2)).toMatchObject({ failure });
    });

    it('marks an answer whose usage was estimated', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);

      await store.finishTurn({
        ...finish,
        answer: { ...finish.answer, stopReason: 'error', usageEstimated: true },
      });

      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items[1]).toMatchObject({ stopReason: 'error', usageEstimated: true });
    });

    it('keeps the model name the upstream answered with when it differs from the one asked for', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);

      await store.finishTurn({
        ...finish,
        answer: { ...finish.answer, upstreamModel: `proxy/${finish.answer.model}` },
      });

      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items[1]).toMatchObject({
        model: finish.answer.model,
        upstreamModel: `proxy/${finish.answer.model}`,
      });
      expect(items[0]?.upstreamModel).toBeUndefined();
    });

    it('stores the answer of a turn whose lease was lost, leaving the new turn its hold', async () => {
      const slow = beginOf({ userId, conversationId: newConversationId() });
      const slowSeq = await store.beginTurn(slow);
      const next = beginOf({
        userId,
        conversationId: slow.conversationId,
        existing: await store.getConversation(userId, slow.conversationId),
        nowIso: iso(slow.leaseUntilMs + 1),
      });
      await store.beginTurn(next);

      await store.finishTurn(finishOf(slow, slowSeq, { nowIso: iso(slow.leaseUntilMs + 2) }));

      const { items } = await store.listMessages(userId, slow.conversationId, { limit: 10 });
      expect(items.map((message) => [message.seq, message.role])).toEqual([
        [1, 'user'],
        [2, 'assistant'],
        [3, 'user'],
      ]);
      expect(await store.getConversation(userId, slow.conversationId)).toMatchObject({
        lastSeq: 4,
        messageCount: 3,
        activeTurn: { turnId: next.turnId },
      });
    });

    it('stores nothing when the conversation was deleted during the turn', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      await store.deleteConversation(userId, begin.conversationId);

      await store.finishTurn(finishOf(begin, seq));

      expect(await store.getConversation(userId, begin.conversationId)).toBeUndefined();
      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items).toEqual([]);
    });

    it('stores nothing in a conversation made again under the id of the one it began in', async () => {
      const { deleted, seq, again, againSeq } = await remadeConversation();

      const stale = finishOf(deleted, seq);
      await store.finishTurn({ ...stale, answer: { ...stale.answer, content: 'Stale.' } });
      const finish = finishOf(again, againSeq);
      await store.finishTurn(finish);

      const { items } = await store.listMessages(userId, again.conversationId, { limit: 10 });
      expect(items.map((message) => [message.role, message.id, message.content])).toEqual([
        ['user', again.userMessage?.id, again.userMessage?.content],
        ['assistant', finish.answer.id, finish.answer.content],
      ]);
      const conversation = await store.getConversation(userId, again.conversationId);
      expect(conversation?.messageCount).toBe(2);
      expect(conversation?.activeTurn).toBeUndefined();
    });

    it("removes a turn's saved pieces when it cannot store its answer, and no other turn's", async () => {
      const { deleted, seq, again, againSeq } = await remadeConversation();
      const save = (turn: BeginTurn, offset: number, text: string) =>
        store.saveAnswerPiece({
          userId,
          conversationId: turn.conversationId,
          turnId: turn.turnId,
          answerSeq: seq + 1,
          offset,
          text,
          nowMs: T0 + 600,
        });
      // Saved after the delete's sweep: the old turn's lands beyond the new one's.
      await save(again, 0, 'Fresh ');
      await save(deleted, 40, 'stale text');

      await store.finishTurn(finishOf(deleted, seq));

      expect(againSeq).toBe(seq);
      expect(await store.partialAnswer(userId, again.conversationId, seq + 1)).toEqual({
        text: 'Fresh ',
      });
    });

    it('stores the answer once when a turn finishes twice', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);

      await store.finishTurn(finish);
      await store.finishTurn(finish);

      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items).toHaveLength(2);
      expect(await store.getConversation(userId, begin.conversationId)).toMatchObject({
        messageCount: 2,
        uncompactedTokens: 12,
      });
    });
  });

  describe('a turn whose function may die', () => {
    const hold = (userIdOfHold: string) => ({
      reservation: {
        id: `resv-${randomUUID()}`,
        userId: userIdOfHold,
        month: '2026-11',
        shard: 3,
        amountNanoUsd: 1_234_567,
        expiresAtMs: T0 + 300_000,
        holder: 'CONV#someone#conv_x',
      },
      model: 'claude-sonnet-4-6',
    });

    it('keeps the hold of the live turn with the conversation, and forgets it when the turn ends', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId(), hold: hold(userId) });
      const seq = await store.beginTurn(begin);

      expect((await store.getConversation(userId, begin.conversationId))?.activeTurn).toEqual({
        turnId: begin.turnId,
        leaseUntilMs: begin.leaseUntilMs,
        hold: begin.hold,
      });
      await store.finishTurn(finishOf(begin, seq));
      expect(
        (await store.getConversation(userId, begin.conversationId))?.activeTurn,
      ).toBeUndefined();
    });

    it('renews the lease of the turn that holds the conversation, and of no other', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);

      expect(await store.renewLease(userId, begin.conversationId, begin.turnId, T0 + 99_000)).toBe(
        true,
      );
      expect(await store.renewLease(userId, begin.conversationId, 'turn_other', T0 + 99_999)).toBe(
        false,
      );
      expect((await store.getConversation(userId, begin.conversationId))?.activeTurn).toEqual({
        turnId: begin.turnId,
        leaseUntilMs: T0 + 99_000,
      });
      await store.finishTurn(finishOf(begin, seq));
      expect(await store.renewLease(userId, begin.conversationId, begin.turnId, T0 + 99_000)).toBe(
        false,
      );
      expect(await store.renewLease(userId, newConversationId(), begin.turnId, T0)).toBe(false);
    });

    it('replaces the recorded hold with a renewal, for the turn that holds the conversation', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId(), hold: hold(userId) });
      await store.beginTurn(begin);
      const moved = hold(userId);

      const renewed = await store.renewLease(
        userId,
        begin.conversationId,
        begin.turnId,
        T0 + 99_000,
        moved,
      );

      expect(renewed).toBe(true);
      expect((await store.getConversation(userId, begin.conversationId))?.activeTurn).toEqual({
        turnId: begin.turnId,
        leaseUntilMs: T0 + 99_000,
        hold: moved,
      });
    });

    it('gives back the answer streamed so far from its pieces, in order, with the usage of the first', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      const usage = {
        inputTokens: 40,
        outputTokens: 1,
        cacheReadInputTokens: 10,
        cacheCreationInputTokens: 0,
      };
      const piece = (offset: number, text: string, extra = {}) =>
        store.saveAnswerPiece({
          userId,
          conversationId: begin.conversationId,
          turnId: begin.turnId,
          answerSeq: seq + 1,
          offset,
          text,
          nowMs: T0,
          ...extra,
        });

      expect(await store.partialAnswer(userId, begin.conversationId, seq + 1)).toEqual({
        text: '',
      });
      // The first piece is saved as the answer starts, then again with its first text.
      await piece(0, '', { usage });
      await piece(0, 'Once upon', { usage });
      await piece(9, ' a time, 😀');
      await piece(20, ' there was');

      expect(await store.partialAnswer(userId, begin.conversationId, seq + 1)).toEqual({
        text: 'Once upon a time, 😀 there was',
        usage,
      });
      expect(await store.partialAnswer(userId, begin.conversationId, seq + 3)).toEqual({
        text: '',
      });
      expect(await store.answerPieces(userId, begin.conversationId, seq + 1, 9)).toEqual([
        { offset: 9, text: ' a time, 😀' },
        { offset: 20, text: ' there was' },
      ]);
      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items).toHaveLength(1);
    });

    it('ends a turn whose function died: its answer stored, the conversation free, once', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId(), hold: hold(userId) });
      const seq = await store.beginTurn(begin);
      const finish = finishOf(begin, seq);
      const interrupted = {
        ...finish,
        answer: { ...finish.answer, content: 'Once upon', stopReason: 'interrupted' as const },
      };

      expect(await store.interruptTurn(interrupted)).toBe(true);
      expect(await store.interruptTurn(interrupted)).toBe(false);

      const conversation = await store.getConversation(userId, begin.conversationId);
      expect(conversation?.activeTurn).toBeUndefined();
      expect(conversation?.messageCount).toBe(2);
      const { items } = await store.listMessages(userId, begin.conversationId, { limit: 10 });
      expect(items[1]).toMatchObject({ content: 'Once upon', stopReason: 'interrupted' });
    });

    it('does not end a turn that finished meanwhile, or one another turn took over', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      await store.finishTurn(finishOf(begin, seq));
      expect(await store.interruptTurn(finishOf(begin, seq))).toBe(false);

      const dead = beginOf({ userId, conversationId: newConversationId() });
      const deadSeq = await store.beginTurn(dead);
      const next = beginOf({
        userId,
        conversationId: dead.conversationId,
        existing: await store.getConversation(userId, dead.conversationId),
        nowIso: iso(dead.leaseUntilMs + 1),
      });
      await store.beginTurn(next);
      expect(await store.interruptTurn(finishOf(dead, deadSeq))).toBe(false);
      expect((await store.getConversation(userId, dead.conversationId))?.activeTurn?.turnId).toBe(
        next.turnId,
      );
    });
  });

  describe('listing', () => {
    it("lists only the user's own conversations, the most recently active first", async () => {
      const older = await converse({ startMs: T0 });
      const newer = await converse({ startMs: T0 + 3_600_000 });
      await converse({ userId: newUserId(), startMs: T0 + 7_200_000 });

      const { items } = await store.listConversations(userId, { limit: 10 });

      expect(items.map((conversation) => conversation.id)).toEqual([newer.id, older.id]);
    });

    it('pages conversations with an opaque cursor until a page comes without one', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.unshift((await converse({ startMs: T0 + i * 60_000 })).id);

      const first = await store.listConversations(userId, { limit: 2 });
      const second = await store.listConversations(userId, { limit: 2, cursor: first.nextCursor });

      expect(first.items.map((conversation) => conversation.id)).toEqual(ids.slice(0, 2));
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(second.items.map((conversation) => conversation.id)).toEqual(ids.slice(2));
      expect(second.nextCursor).toBeUndefined();
    });

    it('gives a full last page a cursor to an empty page', async () => {
      await converse({ startMs: T0 });
      await converse({ startMs: T0 + 60_000 });

      const full = await store.listConversations(userId, { limit: 2 });
      const after = await store.listConversations(userId, { limit: 2, cursor: full.nextCursor });

      expect(full.items).toHaveLength(2);
      expect(full.nextCursor).toEqual(expect.any(String));
      expect(after).toEqual({ items: [] });
    });

    it("refuses a cursor made for another user's conversations", async () => {
      await converse({ startMs: T0 });
      await converse({ startMs: T0 + 60_000 });
      const { nextCursor } = await store.listConversations(userId, { limit: 1 });

      const theirs = store.listConversations(newUserId(), { limit: 1, cursor: nextCursor });

      await expect(theirs).rejects.toBeInstanceOf(ValidationError);
    });

    it('refuses a cursor that no page gave', async () => {
      const forged = store.listConversations(userId, { limit: 1, cursor: 'not-a-cursor' });

      await expect(forged).rejects.toBeInstanceOf(ValidationError);
    });

    it("pages a conversation's messages oldest first", async () => {
      const conversation = await converse({ tokens: [1, 2, 3, 4, 5] });

      const first = await store.listMessages(userId, conversation.id, { limit: 3 });
      const second = await store.listMessages(userId, conversation.id, {
        limit: 3,
        cursor: first.nextCursor,
      });

      expect(first.items.map((message) => message.seq)).toEqual([1, 2, 3]);
      expect(second.items.map((message) => message.seq)).toEqual([4, 5]);
      expect(second.nextCursor).toBeUndefined();
    });

    it('gives a full last page of messages no cursor', async () => {
      const conversation = await converse({ tokens: [1, 2, 3, 4] });

      const page = await store.listMessages(userId, conversation.id, { limit: 4 });

      expect(page.items).toHaveLength(4);
      expect(page.nextCursor).toBeUndefined();
    });

    it('pages messages past the skipped ones, every page but the last full', async () => {
      const conversation = await converse({ tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
      const skip = [
        [2, 4],
        [6, 7],
      ] as const;

      const pages = [];
      let cursor: string | undefined;
      do {
        const page = await store.listMessages(userId, conversation.id, {
          limit: 2,
          skip,
          ...(cursor && { cursor }),
        });
        pages.push(page.items.map((message) => message.seq));
        cursor = page.nextCursor;
      } while (cursor);

      expect(pages).toEqual([
        [1, 5],
        [8, 9],
      ]);
    });

    it('pages messages past a skipped range longer than a page', async () => {
      const conversation = await converse({ tokens: [1, 2, 3, 4, 5, 6, 7] });

      const first = await store.listMessages(userId, conversation.id, { limit: 1, skip: [[1, 6]] });

      expect(first.items.map((message) => message.seq)).toEqual([7]);
    });

    it('refuses a message cursor made for another conversation', async () => {
      const one = await converse({ tokens: [1, 2, 3] });
      const other = await converse({ tokens: [1, 2, 3] });
      const { nextCursor } = await store.listMessages(userId, one.id, { limit: 1 });

      const elsewhere = store.listMessages(userId, other.id, { limit: 1, cursor: nextCursor });

      await expect(elsewhere).rejects.toBeInstanceOf(ValidationError);
    });

    it('finds no conversation of another user, even by its id', async () => {
      const conversation = await converse();

      expect(await store.getConversation(newUserId(), conversation.id)).toBeUndefined();
      expect(await store.deleteConversation(newUserId(), conversation.id)).toBe(false);
      expect(await store.getConversation(userId, conversation.id)).toBeDefined();
    });
  });

  describe('recentMessages: a history window', () => {
    it('returns the newest messages that fit in maxTokens, oldest first', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });

      const { items: recent } = await store.recentMessages(userId, conversation.id, {
        afterSeq: 0,
        maxTokens: 75,
      });

      expect(recent.map((message) => message.seq)).toEqual([3, 4]);
      expect(recent.map((message) => message.content)).toEqual(['question 2', 'answer 3']);
    });

    it('ends the window at the first message that does not fit, though an older one would', async () => {
      const conversation = await converse({ tokens: [5, 50, 10] });

      const { items: recent } = await store.recentMessages(userId, conversation.id, {
        afterSeq: 0,
        maxTokens: 30,
      });

      expect(recent.map((message) => message.seq)).toEqual([3]);
    });

    it('leaves out the messages up to afterSeq', async () => {
      const conversation = await converse({ tokens: [1, 1, 1, 1] });

      const { items: recent } = await store.recentMessages(userId, conversation.id, {
        afterSeq: 2,
        maxTokens: 1_000,
      });

      expect(recent.map((message) => message.seq)).toEqual([3, 4]);
    });

    it('reads and counts nothing past throughSeq', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });

      const { items: recent } = await store.recentMessages(userId, conversation.id, {
        afterSeq: 0,
        throughSeq: 3,
        maxTokens: 50,
      });

      // Counted, the 40 tokens past it would have left no room for message 2.
      expect(recent.map((message) => message.seq)).toEqual([2, 3]);
    });

    it('returns nothing for a conversation that does not exist', async () => {
      const { items: recent } = await store.recentMessages(userId, newConversationId(), {
        afterSeq: 0,
        maxTokens: 1_000,
      });

      expect(recent).toEqual([]);
    });
  });

  describe('recentMessages: a page', () => {
    it('pages from the newest messages back to the first, each page oldest first', async () => {
      const conversation = await converse({ tokens: [1, 1, 1, 1, 1] });

      const newest = await store.recentMessages(userId, conversation.id, {
        limit: 2,
        maxTokens: 1_000,
      });
      const before = await store.recentMessages(userId, conversation.id, {
        limit: 2,
        maxTokens: 1_000,
        cursor: newest.nextCursor,
      });
      const first = await store.recentMessages(userId, conversation.id, {
        limit: 2,
        maxTokens: 1_000,
        cursor: before.nextCursor,
      });

      expect(newest.items.map((message) => message.seq)).toEqual([4, 5]);
      expect(before.items.map((message) => message.seq)).toEqual([2, 3]);
      expect(first.items.map((message) => message.seq)).toEqual([1]);
      expect(first.nextCursor).toBeUndefined();
    });

    it('leaves out the skipped messages without counting them, and ends a page at maxTokens', async () => {
      const conversation = await converse({ tokens: [5, 50, 10, 20, 30, 40] });

      const page = await store.recentMessages(userId, conversation.id, {
        limit: 10,
        maxTokens: 75,
        skip: [[5, 5]],
      });
      const rest = await store.recentMessages(userId, conversation.id, {
        limit: 10,
        maxTokens: 75,
        skip: [[5, 5]],
        cursor: page.nextCursor,
      });

      expect(page.items.map((message) => message.seq)).toEqual([3, 4, 6]);
      expect(rest.items.map((message) => message.seq)).toEqual([1, 2]);
      expect(rest.nextCursor).toBeUndefined();
    });

    it('answers the newest message even when it alone is past maxTokens', async () => {
      const conversation = await converse({ tokens: [5, 500] });

      const page = await store.recentMessages(userId, conversation.id, {
        limit: 10,
        maxTokens: 100,
      });

      expect(page.items.map((message) => message.seq)).toEqual([2]);
      expect(page.nextCursor).toBeDefined();
    });

    it('walks back to the first message page by page, each in its limit and maxTokens, nothing lost or repeated', async () => {
      const tokens = [3, 9, 1, 12, 4, 4, 20, 2, 7, 7, 5, 30, 1, 1];
      const conversation = await converse({ tokens });
      const read = { limit: 3, maxTokens: 25, skip: [[5, 6]] as const };

      const walked: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.recentMessages(userId, conversation.id, {
          ...read,
          ...(cursor !== undefined && { cursor }),
        });
        walked.unshift(page.items.map((message) => message.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined && walked.length < 20);

      expect(walked.flat()).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14]);
      for (const seqs of walked) {
        expect(seqs.length).toBeGreaterThan(0);
        expect(seqs.length).toBeLessThanOrEqual(read.limit);
        // The newest always: a message past maxTokens alone is a page of its own.
        const pageTokens = seqs.reduce((sum, seq) => sum + tokens[seq - 1]!, 0);
        if (seqs.length > 1) expect(pageTokens).toBeLessThanOrEqual(read.maxTokens);
      }
      expect(walked).toContainEqual([12]);
    });

    it('counts the answer streaming as the newest message of a first page, in its limit and its maxTokens', async () => {
      // Its question is the fifth message; the answer streaming will be the sixth.
      const conversation = await converse({ tokens: [1, 1, 1, 1, 1] });
      const streaming = { seq: conversation.lastSeq, tokens: 10 };
      expect(streaming.seq).toBe(6);

      const byLimit = await store.recentMessages(userId, conversation.id, {
        limit: 3,
        maxTokens: 1_000,
        streaming,
      });
      const byTokens = await store.recentMessages(userId, conversation.id, {
        limit: 10,
        maxTokens: 12,
        streaming,
      });
      const rest = await store.recentMessages(userId, conversation.id, {
        limit: 10,
        maxTokens: 12,
        cursor: byTokens.nextCursor,
      });

      expect(byLimit.items.map((message) => message.seq)).toEqual([4, 5]);
      expect(byTokens.items.map((message) => message.seq)).toEqual([4, 5]);
      expect(rest.items.map((message) => message.seq)).toEqual([1, 2, 3]);
      expect(rest.nextCursor).toBeUndefined();
    });

    it('gives a page of one the answer streaming alone, its cursor reading on from the newest message stored', async () => {
      const conversation = await converse({ tokens: [1, 1, 1] });
      const streaming = { seq: conversation.lastSeq, tokens: 1 };

      const first = await store.recentMessages(userId, conversation.id, {
        limit: 1,
        maxTokens: 1_000,
        streaming,
      });
      const pages = [first.items];
      let cursor = first.nextCursor;
      while (cursor !== undefined && pages.length < 10) {
        const page = await store.recentMessages(userId, conversation.id, {
          limit: 1,
          maxTokens: 1_000,
          cursor,
        });
        pages.push(page.items);
        cursor = page.nextCursor;
      }

      expect(pages.map((items) => items.map((message) => message.seq))).toEqual([
        [],
        [3],
        [2],
        [1],
      ]);
    });

    it("lists the answer in the streaming one's place once it is stored, and nothing newer", async () => {
      const conversation = await converse({ tokens: [1, 1] });
      const begin = beginOf({ userId, conversationId: conversation.id, existing: conversation });
      const seq = await store.beginTurn(begin);
      const streaming = { seq: seq + 1, tokens: 500 };
      // It ends (7 tokens stored), and another turn starts, before the page is read.
      await store.finishTurn(finishOf(begin, seq));
      const after = await store.getConversation(userId, conversation.id);
      await store.beginTurn(beginOf({ userId, conversationId: conversation.id, existing: after }));

      const page = await store.recentMessages(userId, conversation.id, {
        limit: 2,
        maxTokens: 510,
        streaming,
      });

      expect(page.items.map((message) => message.seq)).toEqual([3, 4]);
      expect(page.nextCursor).toBeDefined();
    });

    it("refuses another conversation's cursor, and finds nothing in one that does not exist", async () => {
      const conversation = await converse({ tokens: [1, 1, 1] });
      const other = await converse({ tokens: [1, 1, 1] });
      const { nextCursor } = await store.recentMessages(userId, other.id, {
        limit: 1,
        maxTokens: 1_000,
      });

      await expect(
        store.recentMessages(userId, conversation.id, {
          limit: 1,
          maxTokens: 1_000,
          cursor: nextCursor,
        }),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(
        await store.recentMessages(userId, newConversationId(), { limit: 5, maxTokens: 1_000 }),
      ).toEqual({ items: [] });
    });
  });

  describe('stopping a turn', () => {
    it('asks the live turn to stop, and only that turn', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(begin);

      const asked = await store.requestStop(userId, begin.conversationId, T0 + 1_000);

      expect(asked).toBe(true);
      expect(
        await store.isStopRequested(userId, begin.conversationId, begin.turnId, begin.nowIso),
      ).toBe(true);
      // The next question waits for a stopping turn rather than being refused.
      const conversation = await store.getConversation(userId, begin.conversationId);
      expect(conversation?.activeTurn).toMatchObject({ turnId: begin.turnId, stopping: true });
      expect(
        await store.isStopRequested(userId, begin.conversationId, 'turn_other', begin.nowIso),
      ).toBe(false);
    });

    it('stops only the turn named, when one is: not the next turn of the conversation', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(begin);
      const { conversationId } = begin;

      expect(await store.requestStop(userId, conversationId, T0 + 1_000, 'msg_ended')).toBe(false);
      expect(await store.isStopRequested(userId, conversationId, begin.turnId, begin.nowIso)).toBe(
        false,
      );
      expect(
        (await store.getConversation(userId, conversationId))?.activeTurn?.stopping,
      ).toBeUndefined();
      expect(await store.requestStop(userId, conversationId, T0 + 1_000, begin.turnId)).toBe(true);
      expect(await store.isStopRequested(userId, conversationId, begin.turnId, begin.nowIso)).toBe(
        true,
      );
    });

    it('finds no turn to stop in a conversation at rest or one that does not exist', async () => {
      const conversation = await converse();

      expect(await store.requestStop(userId, conversation.id, T0 + 1_000)).toBe(false);
      expect(await store.requestStop(userId, newConversationId(), T0 + 1_000)).toBe(false);
    });

    it('finds no turn to stop once its lease has run out', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(begin);

      const asked = await store.requestStop(userId, begin.conversationId, begin.leaseUntilMs + 1);

      expect(asked).toBe(false);
      expect(
        await store.isStopRequested(userId, begin.conversationId, begin.turnId, begin.nowIso),
      ).toBe(false);
    });

    it('forgets a stop request once its turn has finished', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      const seq = await store.beginTurn(begin);
      await store.requestStop(userId, begin.conversationId, T0 + 1_000);

      await store.finishTurn(finishOf(begin, seq));

      expect(
        await store.isStopRequested(userId, begin.conversationId, begin.turnId, begin.nowIso),
      ).toBe(false);
    });

    it('forgets a stop request meant for a crashed turn when the next turn takes over', async () => {
      const crashed = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(crashed);
      await store.requestStop(userId, crashed.conversationId, T0 + 1_000);
      const next = beginOf({
        userId,
        conversationId: crashed.conversationId,
        existing: await store.getConversation(userId, crashed.conversationId),
        nowIso: iso(crashed.leaseUntilMs + 1),
      });

      await store.beginTurn(next);

      expect(
        await store.isStopRequested(userId, crashed.conversationId, crashed.turnId, crashed.nowIso),
      ).toBe(false);
      expect(
        await store.isStopRequested(userId, crashed.conversationId, next.turnId, crashed.nowIso),
      ).toBe(false);
    });

    it('reports the turn of a deleted conversation as stopped', async () => {
      const begin = beginOf({ userId, conversationId: newConversationId() });
      await store.beginTurn(begin);

      await store.deleteConversation(userId, begin.conversationId);

      expect(
        await store.isStopRequested(userId, begin.conversationId, begin.turnId, begin.nowIso),
      ).toBe(true);
    });

    it('reports the turn of a conversation deleted and made again under its id as stopped', async () => {
      const { deleted, again } = await remadeConversation();

      const { conversationId } = deleted;
      expect(
        await store.isStopRequested(userId, conversationId, deleted.turnId, deleted.nowIso),
      ).toBe(true);
      expect(await store.isStopRequested(userId, conversationId, again.turnId, again.nowIso)).toBe(
        false,
      );
    });
  });

  describe("stopping the answer to a question, by the client's id of it", () => {
    const pendingOf = (begin: BeginTurn, receivedAtMs = Date.parse(begin.nowIso)) => ({
      clientQuestionId: begin.clientQuestionId!,
      receivedAtMs,
    });

    it('stops the live turn answering the question, and says a stop after it ended is late', async () => {
      const begin = beginOf({
        userId,
        conversationId: newConversationId(),
        clientQuestionId: 'q1',
      });
      const seq = await store.beginTurn(begin);
      const { conversationId } = begin;

      expect(await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 + 1_000)).toBe(
        'stopping',
      );
      expect(await store.isStopRequested(userId, conversationId, begin.turnId, begin.nowIso)).toBe(
        true,
      );
      // A reopened chat has the question by the server's id.
      expect(
        await store.requestStopOfQuestion(
          userId,
          conversationId,
          begin.userMessage!.id,
          T0 + 1_000,
        ),
      ).toBe('stopping');
      await store.finishTurn(finishOf(begin, seq));
      expect(await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 + 2_000)).toBe(
        'ended',
      );
      expect(
        await store.requestStopOfQuestion(
          userId,
          conversationId,
          begin.userMessage!.id,
          T0 + 2_000,
        ),
      ).toBe('ended');
    });

    it('keeps a stop that comes before its turn is recorded, for that turn only', async () => {
      const conversationId = newConversationId();
      expect(await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 + 100)).toBe(
        'pending',
      );
      const begin = beginOf({ userId, conversationId, clientQuestionId: 'q1' });
      const seq = await store.beginTurn(begin);

      // Another question's turn does not take it.
      expect(
        await store.isStopRequested(userId, conversationId, begin.turnId, begin.nowIso, {
          clientQuestionId: 'q2',
          receivedAtMs: T0,
        }),
      ).toBe(false);
      expect(
        await store.isStopRequested(
          userId,
          conversationId,
          begin.turnId,
          begin.nowIso,
          pendingOf(begin),
        ),
      ).toBe(true);
      await store.finishTurn(finishOf(begin, seq));

      // Taken: the same question answered again goes on.
      const again = beginOf({
        userId,
        conversationId,
        existing: await store.getConversation(userId, conversationId),
        clientQuestionId: 'q1',
        nowIso: iso(T0 + 1_000),
      });
      await store.beginTurn(again);
      expect(
        await store.isStopRequested(
          userId,
          conversationId,
          again.turnId,
          begin.nowIso,
          pendingOf(again),
        ),
      ).toBe(false);
    });

    it('keeps a late stop for the turn for its question already under way (a regenerate being admitted), not for one asked after it', async () => {
      const first = beginOf({
        userId,
        conversationId: newConversationId(),
        clientQuestionId: 'q1',
      });
      const { conversationId } = first;
      await store.finishTurn(finishOf(first, await store.beginTurn(first)));
      const again = async (receivedAtMs: number) => {
        const begin = beginOf({
          userId,
          conversationId,
          existing: await store.getConversation(userId, conversationId),
          clientQuestionId: 'q1',
          userMessage: undefined,
          nowIso: iso(T0 + 10_000),
        });
        const seq = await store.beginTurn(begin);
        const stopped = await store.isStopRequested(
          userId,
          conversationId,
          begin.turnId,
          first.nowIso,
          pendingOf(begin, receivedAtMs),
        );
        await store.finishTurn(finishOf(begin, seq, { conversationCreatedAt: first.nowIso }));
        return stopped;
      };

      expect(await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 + 5_000)).toBe(
        'ended',
      );
      expect(await again(T0 + 5_001)).toBe(false);
      expect(await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 + 5_000)).toBe(
        'ended',
      );
      expect(await again(T0 + 4_000)).toBe(true);
    });

    it("stops a regenerate by the server's id of its question (a reopened chat's), and says late once it ended", async () => {
      const first = beginOf({
        userId,
        conversationId: newConversationId(),
        clientQuestionId: 'q1',
      });
      const { conversationId } = first;
      await store.finishTurn(finishOf(first, await store.beginTurn(first)));
      const regenerate = beginOf({
        userId,
        conversationId,
        existing: await store.getConversation(userId, conversationId),
        clientQuestionId: 'q1',
        userMessage: undefined,
        supersedeFrom: 2,
        nowIso: iso(T0 + 10_000),
      });
      const seq = await store.beginTurn(regenerate);
      const questionId = first.userMessage!.id;

      expect(
        await store.requestStopOfQuestion(userId, conversationId, questionId, T0 + 11_000),
      ).toBe('stopping');
      expect(
        await store.isStopRequested(userId, conversationId, regenerate.turnId, first.nowIso),
      ).toBe(true);
      await store.finishTurn(finishOf(regenerate, seq, { conversationCreatedAt: first.nowIso }));
      expect(
        await store.requestStopOfQuestion(userId, conversationId, questionId, T0 + 12_000),
      ).toBe('ended');
    });

    it("takes a refused turn's question for one not asked yet: its Retry stops", async () => {
      const conversation = await converse();
      const refused = beginOf({
        userId,
        conversationId: conversation.id,
        existing: conversation,
        clientQuestionId: 'q-refused',
      });
      await store.beginTurn(refused);
      await store.abandonTurn(refused);

      expect(
        await store.requestStopOfQuestion(userId, conversation.id, 'q-refused', T0 + 1_000),
      ).toBe('pending');
    });

    it('does not let a stop kept long before a turn stop it', async () => {
      const conversationId = newConversationId();
      await store.requestStopOfQuestion(userId, conversationId, 'q1', T0 - 60_000);
      const begin = beginOf({ userId, conversationId, clientQuestionId: 'q1' });
      await store.beginTurn(begin);

      expect(
        await store.isStopRequested(
          userId,
          conversationId,
          begin.turnId,
          begin.nowIso,
          pendingOf(begin),
        ),
      ).toBe(false);
    });
  });

  describe('deleteConversation', () => {
    it('deletes a conversation with all its messages, and only once', async () => {
      const conversation = await converse({ tokens: [1, 2, 3, 4] });
      const kept = await converse();

      const deleted = await store.deleteConversation(userId, conversation.id);

      expect(deleted).toBe(true);
      expect(await store.getConversation(userId, conversation.id)).toBeUndefined();
      expect(await store.listMessages(userId, conversation.id, { limit: 10 })).toEqual({
        items: [],
      });
      const { items } = await store.listConversations(userId, { limit: 10 });
      expect(items.map((listed) => listed.id)).toEqual([kept.id]);
      expect(await store.deleteConversation(userId, conversation.id)).toBe(false);
    });

    it('tells when a conversation was made until it is deleted, for a watcher of its delete', async () => {
      const conversation = await converse();

      expect(await store.conversationCreatedAt(userId, conversation.id)).toBe(
        conversation.createdAt,
      );
      await store.deleteConversation(userId, conversation.id);
      expect(await store.conversationCreatedAt(userId, conversation.id)).toBeUndefined();
      expect(await store.conversationCreatedAt('someone-else', conversation.id)).toBeUndefined();
    });
  });

  describe('saveSummary', () => {
    /** The conversation as a compaction reads it. */
    const basisOf = (conversation: Conversation) => ({
      createdAt: conversation.createdAt,
      summaryThroughSeq: conversation.summary?.throughSeq ?? 0,
      supersededRanges: conversation.superseded ?? [],
    });

    it('saves a summary and takes the compacted tokens off the uncompacted count', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });

      const saved = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'They planned lunch.', throughSeq: 2, tokensCompacted: 30 },
        basisOf(conversation),
      );

      expect(saved).toBe('saved');
      expect(await store.getConversation(userId, conversation.id)).toMatchObject({
        summary: { text: 'They planned lunch.', throughSeq: 2 },
        uncompactedTokens: 70,
      });
    });

    it('extends a summary it read, and refuses one made from a summary that has moved on', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40, 50, 60] });
      const read = basisOf(conversation);
      await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Through 2.', throughSeq: 2, tokensCompacted: 30 },
        read,
      );
      const extended = await store.getConversation(userId, conversation.id);

      // Made from what was read before "Through 2." was saved: its tokens would count twice.
      const late = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Through 4.', throughSeq: 4, tokensCompacted: 100 },
        read,
      );
      const next = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Through 4.', throughSeq: 4, tokensCompacted: 70 },
        basisOf(extended!),
      );

      expect([late, next]).toEqual(['stale', 'saved']);
      expect(await store.getConversation(userId, conversation.id)).toMatchObject({
        summary: { text: 'Through 4.', throughSeq: 4 },
        uncompactedTokens: 110,
      });
    });

    it('refuses a summary made before messages were replaced: it would bring them back', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });
      await store.beginTurn(
        beginOf({
          userId,
          conversationId: conversation.id,
          existing: conversation,
          supersedeFrom: 1,
        }),
      );

      const saved = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Of the replaced question.', throughSeq: 2, tokensCompacted: 30 },
        basisOf(conversation),
      );

      expect(saved).toBe('stale');
      expect((await store.getConversation(userId, conversation.id))?.summary).toBeUndefined();
    });

    it('saves a summary onto the replaced ranges it read', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });
      const edit = beginOf({
        userId,
        conversationId: conversation.id,
        existing: conversation,
        supersedeFrom: 3,
      });
      await store.finishTurn(finishOf(edit, await store.beginTurn(edit)));
      const edited = (await store.getConversation(userId, conversation.id))!;

      const saved = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'They planned lunch.', throughSeq: 2, tokensCompacted: 30 },
        basisOf(edited),
      );

      expect(edited.superseded).toEqual([[3, 4]]);
      expect(saved).toBe('saved');
    });

    it('refuses a summary read during an edit that was abandoned for another', async () => {
      const conversation = await converse({ tokens: [10, 20, 30, 40] });
      const abandoned = beginOf({
        userId,
        conversationId: conversation.id,
        existing: conversation,
        supersedeFrom: 3,
      });
      await store.beginTurn(abandoned);
      const read = basisOf((await store.getConversation(userId, conversation.id))!);
      await store.abandonTurn(abandoned);
      // As many replaced ranges as were read, but another one: messages 1 and 2 are gone.
      await store.beginTurn(
        beginOf({
          userId,
          conversationId: conversation.id,
          existing: conversation,
          supersedeFrom: 1,
        }),
      );

      const saved = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Of the replaced questions.', throughSeq: 2, tokensCompacted: 30 },
        read,
      );

      expect(saved).toBe('stale');
      expect((await store.getConversation(userId, conversation.id))?.summary).toBeUndefined();
    });

    it('creates nothing for a conversation that does not exist, and says it is gone', async () => {
      const conversation = await converse();
      await store.deleteConversation(userId, conversation.id);

      const saved = await store.saveSummary(
        userId,
        conversation.id,
        { text: 'Nothing.', throughSeq: 2, tokensCompacted: 10 },
        basisOf(conversation),
      );

      expect(saved).toBe('gone');
      expect(await store.getConversation(userId, conversation.id)).toBeUndefined();
    });

    it('says gone for a conversation deleted and made again under its id, leaving the new one alone', async () => {
      const old = await converse({ tokens: [10, 20, 30, 40] });
      await store.deleteConversation(userId, old.id);
      await converse({ conversationId: old.id, tokens: [5, 6], startMs: T0 + 3_600_000 });

      const saved = await store.saveSummary(
        userId,
        old.id,
        { text: 'Of the deleted one.', throughSeq: 2, tokensCompacted: 30 },
        basisOf(old),
      );

      expect(saved).toBe('gone');
      expect(await store.getConversation(userId, old.id)).toMatchObject({ uncompactedTokens: 11 });
      expect((await store.getConversation(userId, old.id))?.summary).toBeUndefined();
    });
  });
}
