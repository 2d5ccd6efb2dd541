import { describe, expect, it } from 'vitest';
import { newConversationId, newMessageId } from '../../../../shared/domain/ids.js';
import { PriceTable } from '../../../../shared/domain/pricing/price-table.js';
import { estimateOutputTokens } from '../../../../shared/domain/tokens.js';
import {
  createTurnRecovery,
  type RecoveredTurn,
  turnHolder,
} from '../../../../shared/turns/recover-turn.js';
import { createTurnSweeper } from '../../../../shared/turns/sweep-turns.js';
import { createAbandonedCallRecorder } from '../../../../shared/usage/record-abandoned-call.js';
import { InMemoryConversationStore } from '../../../fakes/in-memory-conversation-store.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';
import { InMemoryUsageRecords } from '../../../fakes/in-memory-usage-records.js';

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const LEASE_MS = 20_000;
const USER = 'alice';
const MODEL = 'claude-sonnet-4-6';
const REQUEST_ID = 'req-of-the-turn';
const STARTED_USAGE = {
  inputTokens: 1_000,
  outputTokens: 1,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/** A turn begun at T0 with a reservation, then left by its function after streaming `text`. */
async function abandonedTurn(text: string, options: { holder?: boolean; maxTokens?: number } = {}) {
  let nowMs = T0;
  const store = new InMemoryConversationStore();
  const ledger = new InMemoryUsageLedger();
  const prices = new PriceTable();
  const conversationId = newConversationId();
  const reservation = await ledger.reserve({
    userId: USER,
    amountNanoUsd: 50_000_000,
    userDefaultBudgetNanoUsd: 10_000_000_000,
    globalBudgetNanoUsd: 1_000_000_000_000,
    nowMs,
    expiresAtMs: nowMs + 300_000,
    ...(options.holder !== false && { holder: turnHolder(USER, conversationId) }),
  });
  const turnId = newMessageId();
  const seq = await store.beginTurn({
    userId: USER,
    conversationId,
    turnId,
    title: 'A story',
    userMessage: { id: newMessageId(), content: 'Tell me a story', tokens: 4 },
    nowIso: new Date(nowMs).toISOString(),
    leaseUntilMs: nowMs + LEASE_MS,
    hold: {
      reservation,
      model: MODEL,
      ...(options.maxTokens !== undefined && { maxTokens: options.maxTokens }),
      requestId: REQUEST_ID,
      receivedAt: new Date(T0).toISOString(),
    },
  });
  const save = (offset: number, piece: string, withUsage = false) =>
    store.saveAnswerPiece({
      userId: USER,
      conversationId,
      turnId,
      answerSeq: seq + 1,
      offset,
      text: piece,
      nowMs,
      ...(withUsage && { usage: STARTED_USAGE }),
    });
  await save(0, '', true);
  if (text) {
    await save(0, text.slice(0, 5), true);
    await save(5, text.slice(5));
  }
  const clock = () => nowMs;
  const usageRecords = new InMemoryUsageRecords();
  const recovered: RecoveredTurn[] = [];
  const unrecorded: Array<{ turn: RecoveredTurn; error: unknown }> = [];
  const recover = createTurnRecovery({
    store,
    ledger,
    usageRecords,
    prices,
    clock,
    onRecovered: (turn) => recovered.push(turn),
    onUsageNotRecorded: (turn, error) => unrecorded.push({ turn, error }),
  });
  return {
    recovered,
    unrecorded,
    store,
    ledger,
    usageRecords,
    prices,
    conversationId,
    turnId,
    reservation,
    recover: () => recover(USER, conversationId),
    sweep: createTurnSweeper({ ledger, recover, clock }),
    advance: (ms: number) => {
      nowMs += ms;
    },
    month: () => ledger.userMonth(USER, '2026-11'),
  };
}

describe('recovering a turn whose function died', () => {
  it('leaves a live turn alone', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS - 1);

    expect(await world.recover()).toBe('alive');

    expect(
      (await world.store.getConversation(USER, world.conversationId))?.activeTurn,
    ).toBeDefined();
    expect((await world.month()).heldNanoUsd).toBe(world.reservation.amountNanoUsd);
  });

  it('counts nothing for the spend metrics when the turn settled its own figures first (it only stalled, and published them)', async () => {
    const world = await abandonedTurn('Once upon a time');
    const own = { usage: { ...STARTED_USAGE, outputTokens: 40 }, costNanoUsd: 5_000_000 };
    await world.ledger.settle(world.reservation, own);
    world.advance(LEASE_MS + 1);

    expect(await world.recover()).toBe('recovered');

    expect(world.recovered).toHaveLength(1);
    expect(world.recovered[0]?.counted.costNanoUsd).toBe(0);
    expect((await world.month()).spentNanoUsd).toBe(own.costNanoUsd);
  });

  it('keeps what it streamed as an interrupted answer, bills it and frees the conversation', async () => {
    const world = await abandonedTurn('Once upon a time, 漢字');
    world.advance(LEASE_MS + 1);

    expect(await world.recover()).toBe('recovered');

    const usage = {
      ...STARTED_USAGE,
      outputTokens: estimateOutputTokens('Once upon a time, 漢字'),
    };
    const costNanoUsd = world.prices.costNanoUsd(MODEL, usage);
    const { items } = await world.store.listMessages(USER, world.conversationId, { limit: 10 });
    expect(items[1]).toMatchObject({
      role: 'assistant',
      content: 'Once upon a time, 漢字',
      stopReason: 'interrupted',
      model: MODEL,
      usage,
      usageEstimated: true,
      costNanoUsd,
    });
    expect(
      (await world.store.getConversation(USER, world.conversationId))?.activeTurn,
    ).toBeUndefined();
    // Told once, for the operator's log and metric; a second look finds it idle.
    expect(await world.recover()).toBe('idle');
    expect(world.recovered).toEqual([
      {
        userId: USER,
        conversationId: world.conversationId,
        turnId: world.turnId,
        model: MODEL,
        outputTokens: usage.outputTokens,
        costNanoUsd,
        // Its settle took the hold: all of it is counted, as its function never published it.
        counted: { usage, costNanoUsd },
      },
    ]);
    // The hold is released: what is held is what was spent.
    expect(await world.month()).toMatchObject({
      spentNanoUsd: costNanoUsd,
      heldNanoUsd: costNanoUsd,
      requests: 1,
      inputTokens: 1_000,
    });
  });

  it('keeps it as stopped when its user asked to stop it before its function died (the stop was a 202)', async () => {
    const world = await abandonedTurn('Once upon a time');
    expect(await world.store.requestStop(USER, world.conversationId, T0 + 1_000)).toBe(true);
    world.advance(LEASE_MS + 1);

    expect(await world.recover()).toBe('recovered');

    const { items } = await world.store.listMessages(USER, world.conversationId, { limit: 10 });
    expect(items[1]).toMatchObject({ content: 'Once upon a time', stopReason: 'stopped' });
  });

  it('gives back the answer a regenerate was to replace when its function died before its first word', async () => {
    const store = new InMemoryConversationStore();
    const conversationId = newConversationId();
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    const asked = {
      userId: USER,
      conversationId,
      turnId: newMessageId(),
      title: 'A story',
      userMessage: { id: newMessageId(), content: 'Tell me a story', tokens: 4 },
      nowIso: at(0),
      leaseUntilMs: T0 + LEASE_MS,
    };
    const seq = await store.beginTurn(asked);
    const answered = {
      userId: USER,
      conversationId,
      turnId: asked.turnId,
      userSeq: seq,
      conversationCreatedAt: at(0),
      answer: {
        id: asked.turnId,
        content: 'Once upon a time',
        model: MODEL,
        stopReason: 'end_turn' as const,
        usage: STARTED_USAGE,
        usageEstimated: false,
        costNanoUsd: 1,
        tokens: 4,
      },
      nowIso: at(1),
    };
    await store.finishTurn(answered);
    const existing = (await store.getConversation(USER, conversationId))!;
    // The regenerate begins, replacing the answer, and its function dies before Claude's first word.
    await store.beginTurn({
      userId: USER,
      conversationId,
      existing,
      turnId: newMessageId(),
      title: 'A story',
      supersedeFrom: 2,
      nowIso: at(2),
      leaseUntilMs: T0 + LEASE_MS,
    });
    const recover = createTurnRecovery({
      store,
      ledger: new InMemoryUsageLedger(),
      usageRecords: new InMemoryUsageRecords(),
      prices: new PriceTable(),
      clock: () => T0 + LEASE_MS + 1,
    });

    expect(await recover(USER, conversationId)).toBe('recovered');

    const after = (await store.getConversation(USER, conversationId))!;
    expect(after.superseded).toEqual([[3, 3]]);
    const { items } = await store.listMessages(USER, conversationId, {
      limit: 10,
      skip: after.superseded,
    });
    expect(items.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Tell me a story'],
      ['assistant', 'Once upon a time'],
    ]);
  });

  it("never estimates more output than the answer's max_tokens: Claude bills no more", async () => {
    const world = await abandonedTurn('x'.repeat(3_000), { maxTokens: 500 });
    world.advance(LEASE_MS + 1);

    await world.recover();

    const { items } = await world.store.listMessages(USER, world.conversationId, { limit: 10 });
    expect(estimateOutputTokens('x'.repeat(3_000))).toBe(1_000);
    expect(items[1]?.usage?.outputTokens).toBe(500);
  });

  it('bills the input of a turn that died before its first word', async () => {
    const world = await abandonedTurn('');
    world.advance(LEASE_MS + 1);

    await world.recover();

    expect((await world.month()).inputTokens).toBe(1_000);
    const { items } = await world.store.listMessages(USER, world.conversationId, { limit: 10 });
    expect(items[1]).toMatchObject({ content: '', stopReason: 'interrupted' });
  });

  it('settles once when two recoveries race', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);

    const outcomes = await Promise.all([world.recover(), world.recover(), world.recover()]);

    expect(outcomes.filter((outcome) => outcome === 'recovered')).toHaveLength(1);
    expect(world.ledger.settled).toHaveLength(1);
    expect((await world.month()).requests).toBe(1);
  });

  it("reports the recovered call in the usage records under the turn's own request", async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);

    await world.recover();

    const usage = { ...STARTED_USAGE, outputTokens: estimateOutputTokens('Once upon a time') };
    const record = {
      requestId: REQUEST_ID,
      at: new Date(T0).toISOString(),
      principal: USER,
      api: 'chat' as const,
      model: MODEL,
      usage,
      costNanoUsd: world.prices.costNanoUsd(MODEL, usage),
      latencyMs: LEASE_MS + 1,
      stopReason: 'interrupted',
      cacheHit: false,
      recovered: true,
    };
    expect(world.usageRecords.recorded).toEqual([record]);
    // The function was alive after all and records its request: it is counted once, at
    // the larger figures, as its late settle counts it in the ledger.
    const ownUsage = { ...usage, outputTokens: 400 };
    const own = {
      ...record,
      usage: ownUsage,
      costNanoUsd: world.prices.costNanoUsd(MODEL, ownUsage),
      stopReason: 'end_turn',
      recovered: false,
    };
    await world.usageRecords.record(own);
    expect(world.usageRecords.recorded).toEqual([own]);
  });

  it('reports the recovered call in the usage records though its settle fails, which the sweep finishes', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);
    const throttled = new Error('the table is throttled');
    world.ledger.settle = async () => {
      throw throttled;
    };

    await expect(world.recover()).rejects.toBe(throttled);

    const usage = { ...STARTED_USAGE, outputTokens: estimateOutputTokens('Once upon a time') };
    expect(world.usageRecords.recorded).toEqual([
      expect.objectContaining({
        requestId: REQUEST_ID,
        costNanoUsd: world.prices.costNanoUsd(MODEL, usage),
        recovered: true,
      }),
    ]);
    // The turn is ended: no later recovery would record it.
    expect(await world.recover()).toBe('idle');
  });

  it('reports a recovered call whose usage record could not be written: no later recovery would write it', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);
    const throttled = new Error('the table is throttled');
    world.usageRecords.record = async () => {
      throw throttled;
    };

    expect(await world.recover()).toBe('recovered');

    expect(world.ledger.settled).toHaveLength(1);
    expect(world.unrecorded).toEqual([{ turn: world.recovered[0], error: throttled }]);
  });

  it('leaves the call counted once when its function was alive after all and settles late', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);
    await world.recover();

    // The function only stalled: it finishes its answer and settles what it really cost.
    const usage = { ...STARTED_USAGE, outputTokens: 400 };
    const costNanoUsd = world.prices.costNanoUsd(MODEL, usage);
    await world.ledger.settle(world.reservation, { usage, costNanoUsd });

    expect(await world.month()).toMatchObject({
      requests: 1,
      outputTokens: 400,
      spentNanoUsd: costNanoUsd,
      heldNanoUsd: costNanoUsd,
    });
  });

  it('says idle for a conversation at rest, and gone for none', async () => {
    const world = await abandonedTurn('Once upon a time');
    world.advance(LEASE_MS + 1);
    await world.recover();

    expect(await world.recover()).toBe('idle');
    expect(await createTurnRecovery({ ...world, clock: () => T0 })(USER, newConversationId())).toBe(
      'gone',
    );
  });
});

describe('the sweep', () => {
  it('ends the dead turns nobody touches, found by their reservations, and leaves live ones', async () => {
    const dead = await abandonedTurn('Once upon a time');
    dead.advance(LEASE_MS + 1);

    const report = await dead.sweep();

    expect(report).toEqual({
      recovered: 1,
      reclaimed: 0,
      abandoned: 0,
      failed: 0,
      deferred: 0,
      reclaimFailed: false,
    });
    expect(await dead.recover()).toBe('idle');

    const alive = await abandonedTurn('Once upon a time');
    expect(await alive.sweep()).toEqual({
      recovered: 0,
      reclaimed: 0,
      abandoned: 0,
      failed: 0,
      deferred: 0,
      reclaimFailed: false,
    });
    expect(await alive.recover()).toBe('alive');
  });

  it('reports each turn it could not check, with why, and counts it failed', async () => {
    const dead = await abandonedTurn('Once upon a time');
    dead.advance(LEASE_MS + 1);
    const failures: unknown[] = [];
    const sweep = createTurnSweeper({
      ledger: dead.ledger,
      recover: () => Promise.reject(new Error('throttled')),
      clock: () => T0 + LEASE_MS + 1,
      onFailed: (turn, error) => failures.push({ turn, error }),
    });

    expect(await sweep()).toMatchObject({ recovered: 0, failed: 1 });
    expect(failures).toEqual([
      {
        turn: { userId: USER, conversationId: dead.conversationId },
        error: expect.objectContaining({ message: 'throttled' }),
      },
    ]);
  });

  it('leaves a turn it could not check, and its expired hold, to the next run', async () => {
    const dead = await abandonedTurn('Once upon a time');
    dead.advance(300_001);
    const throttled = createTurnSweeper({
      ledger: dead.ledger,
      recover: () => Promise.reject(new Error('throttled')),
      clock: () => T0 + 300_001,
    });

    expect(await throttled()).toMatchObject({ failed: 1, reclaimed: 0 });
    // Not reclaimed unbilled, its entry with it: the next run finds it, and bills what it showed.
    expect(await dead.sweep()).toMatchObject({ recovered: 1, reclaimed: 0, failed: 0 });
  });

  it('leaves a turn it has no time to check, and its expired hold, to the next run', async () => {
    const dead = await abandonedTurn('Once upon a time');
    dead.advance(300_001);

    expect(await dead.sweep({ hasTime: () => false })).toEqual({
      recovered: 0,
      reclaimed: 0,
      abandoned: 0,
      failed: 0,
      deferred: 1,
      reclaimFailed: false,
    });
    // Not reclaimed unbilled: the next run recovers it, billing what it showed.
    expect(await dead.sweep()).toMatchObject({ recovered: 1, deferred: 0 });
  });

  it('bills a call abandoned by its function all it held, once, and records it for the usage report', async () => {
    const ledger = new InMemoryUsageLedger();
    const ifAbandoned = {
      api: 'messages' as const,
      model: MODEL,
      requestId: 'req_1',
      startedAtMs: T0,
    };
    const call = await ledger.reserve({
      userId: USER,
      amountNanoUsd: 7_000_000,
      userDefaultBudgetNanoUsd: 10_000_000_000,
      globalBudgetNanoUsd: 1_000_000_000_000,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
    });
    await ledger.billIfAbandoned(call, ifAbandoned);
    const usageRecords = new InMemoryUsageRecords();
    const clock = () => T0 + 60_001;
    const sweep = createTurnSweeper({
      ledger,
      recover: () => Promise.reject(new Error('no turn holds it')),
      clock,
      recordAbandoned: createAbandonedCallRecorder({
        usageRecords,
        clock,
        onNotRecorded: () => {},
      }),
    });

    expect(await sweep()).toMatchObject({ abandoned: 1, reclaimed: 1, failed: 0 });
    expect(await sweep()).toMatchObject({ abandoned: 0, reclaimed: 0 });

    expect(usageRecords.recorded).toEqual([
      {
        requestId: 'req_1',
        at: new Date(T0).toISOString(),
        principal: USER,
        api: 'messages',
        model: MODEL,
        usage: expect.objectContaining({ inputTokens: 0, outputTokens: 0 }),
        costNanoUsd: call.amountNanoUsd,
        latencyMs: 60_001,
        stopReason: 'interrupted',
        cacheHit: false,
        recovered: true,
      },
    ]);
    expect(await ledger.userMonth(USER, '2026-11')).toMatchObject({
      requests: 1,
      spentNanoUsd: 7_000_000,
      heldNanoUsd: 7_000_000,
    });
  });

  it('reclaims the expired holds of callers that are not turns', async () => {
    const world = await abandonedTurn('x', { holder: false });
    world.advance(300_001);

    expect(await world.sweep()).toMatchObject({ recovered: 0, reclaimed: 1 });
  });
});
