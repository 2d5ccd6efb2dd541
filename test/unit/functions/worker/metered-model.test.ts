import { describe, expect, it } from 'vitest';
import { MAX_JOB_ANSWER_BYTES } from '../../../../functions/worker/answer-size.js';
import { PermanentJobError } from '../../../../functions/worker/job-errors.js';
import { JobMeter } from '../../../../functions/worker/metered-model.js';
import { monthOf } from '../../../../shared/domain/budget.js';
import { BudgetExceededError, ModelError } from '../../../../shared/domain/errors.js';
import { NOTHING_COUNTED, SettleIncompleteError } from '../../../../shared/domain/settlement.js';
import { estimateOutputTokens, maxTokensOf, utf8Bytes } from '../../../../shared/domain/tokens.js';
import type { Model, ModelRequest, ModelStreamEvent } from '../../../../shared/ports/model.js';
import { ScriptedModel } from '../../../fakes/scripted-model.js';
import { createWorkerWorld, JOB_ID, USER_ID } from './support.js';

const JOB = { userId: USER_ID, jobId: JOB_ID };
const KEY_ID = `key_${'a'.repeat(32)}`;
const KEYED_JOB = { ...JOB, apiKeyId: KEY_ID };

/** A world whose user has the API key KEY_ID, as the admin API stores it. */
async function worldWithKey(
  key: { monthlyBudgetUsd?: number; revokedAt?: string; expiresAt?: string; principal?: string },
  options: Parameters<typeof createWorkerWorld>[0] = {},
) {
  const world = createWorkerWorld(options);
  await world.apiKeys.create(
    {
      id: KEY_ID,
      principal: USER_ID,
      hint: 'csk_abcd…wxyz',
      createdAt: new Date(world.clock.nowMs).toISOString(),
      ...key,
    },
    'a-secret-hash',
  );
  return world;
}

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'claude-haiku-4-5',
    system: [{ text: 'You summarize documents.' }],
    messages: [{ role: 'user', blocks: [{ text: 'Summarize this: a short memo.' }] }],
    maxTokens: 500,
    ...overrides,
  };
}

const EXACT_USAGE = {
  inputTokens: 1_000,
  outputTokens: 200,
  cacheReadInputTokens: 50,
  cacheCreationInputTokens: 10,
};
/**
 * Haiku 4.5 at $1 input, $5 output, $0.10 cache read, $1.25 cache write (5 min) per
 * million tokens: 1000 × 1000 + 200 × 5000 + 50 × 100 + 10 × 1250 nano-dollars.
 */
const EXACT_COST_NANO_USD = 2_017_500;

async function monthOfUser(world: ReturnType<typeof createWorkerWorld>) {
  return world.ledger.userMonth(USER_ID, monthOf(world.clock.nowMs));
}

describe('createMeteredModel', () => {
  it('settles the exact cost of the call from the price table', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }],
    });
    const meter = new JobMeter();

    const answer = await world.complete(JOB, request(), meter);

    expect(answer.text).toBe('The memo.');
    expect(world.prices.costNanoUsd('claude-haiku-4-5', EXACT_USAGE)).toBe(EXACT_COST_NANO_USD);
    expect(world.ledger.settled).toHaveLength(1);
    expect(world.ledger.settled[0]?.actual).toEqual({
      usage: expect.objectContaining(EXACT_USAGE),
      costNanoUsd: EXACT_COST_NANO_USD,
    });
    expect(await monthOfUser(world)).toMatchObject({
      requests: 1,
      spentNanoUsd: EXACT_COST_NANO_USD,
      heldNanoUsd: EXACT_COST_NANO_USD,
      inputTokens: 1_000,
      outputTokens: 200,
    });
  });

  it('records each call for the usage report: the job, its principal, the model, usage and cost', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }],
    });
    const startedAtMs = world.clock.nowMs;

    await world.complete(JOB, request(), new JobMeter());

    expect(world.usageRecords.recorded).toEqual([
      {
        // Its job's and its reservation's: the record the sweep would make, had it been abandoned.
        requestId: `${JOB_ID}:${world.ledger.settled[0]?.reservation.id}`,
        at: new Date(startedAtMs).toISOString(),
        principal: USER_ID,
        api: 'jobs',
        model: 'claude-haiku-4-5',
        usage: expect.objectContaining(EXACT_USAGE),
        costNanoUsd: EXACT_COST_NANO_USD,
        latencyMs: expect.any(Number),
        stopReason: 'end_turn',
        cacheHit: false,
      },
    ]);
  });

  it('records a call cut off at what it settled, and never fails a call it cannot record', async () => {
    const world = createWorkerWorld({
      model: [
        { kind: 'fail-mid', chunks: 3, error: 'connection' },
        { kind: 'answer', chunks: ['ok'] },
      ],
    });
    await expect(world.complete(JOB, request(), new JobMeter())).rejects.toMatchObject({
      kind: 'connection',
    });
    const [cut] = world.usageRecords.recorded;
    expect(cut?.costNanoUsd).toBe((await monthOfUser(world)).spentNanoUsd);
    expect(cut?.stopReason).toBeUndefined();

    world.usageRecords.record = async () => {
      throw new Error('the table is unavailable');
    };
    const answer = await world.complete(JOB, request(), new JobMeter());

    expect(answer.text).toBe('ok');
    expect(world.observer.usageNotRecordedErrors).toHaveLength(1);
    expect(world.observer.usageNotRecordedCalls).toEqual([{ jobId: JOB_ID, userId: USER_ID }]);
  });

  it('keeps an answer it cannot settle, recorded for the report: failing the job would pay for it again', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }],
    });
    const throttled = new Error('the table is throttled');
    world.ledger.settle = async () => {
      throw throttled;
    };
    const meter = new JobMeter();

    const answer = await world.complete(JOB, request(), meter);

    expect(answer.text).toBe('The memo.');
    expect((world.model as ScriptedModel).requests).toHaveLength(1);
    expect(meter.costNanoUsd).toBe(EXACT_COST_NANO_USD);
    expect(world.usageRecords.recorded.map((record) => record.costNanoUsd)).toEqual([
      EXACT_COST_NANO_USD,
    ]);
    expect(world.observer.settlementFailures).toEqual([
      { reservationId: expect.any(String), jobId: JOB_ID, userId: USER_ID, error: throttled },
    ]);
  });

  it("publishes as spend only what a failed settle counted in the deployment's month: the sweep publishes the rest", async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }],
    });
    world.ledger.settle = async () => {
      throw new SettleIncompleteError(NOTHING_COUNTED, new Error('the table is throttled'));
    };

    await world.complete(JOB, request(), new JobMeter());

    expect(world.observer.modelCalls).toEqual([NOTHING_COUNTED]);
  });

  it('ends an answer that reaches what one item stores as max_tokens, its stream closed, settled for what was streamed', async () => {
    // Pieces of 1,003 bytes, 101 ASCII then 451 two-byte characters: the 349th passes the cap
    // (by 955 + 1 bytes), in the middle of a character.
    const piece = `${'a'.repeat(101)}${'é'.repeat(451)}`;
    const stream = { pulled: 0, closed: false };
    const model: Model = {
      async openStream() {
        return {
          model: 'claude-haiku-4-5',
          initialUsage: { ...EXACT_USAGE, outputTokens: 1 },
          async *[Symbol.asyncIterator](): AsyncGenerator<ModelStreamEvent> {
            try {
              for (let i = 0; i < 1_000; i++) {
                stream.pulled += 1;
                yield { type: 'text', text: piece };
              }
              yield { type: 'stop', stopReason: 'end_turn' };
            } finally {
              stream.closed = true;
            }
          },
        };
      },
      complete: () => Promise.reject(new Error('not used')),
    };
    const world = createWorkerWorld({ model });
    const meter = new JobMeter();

    const answer = await world.complete(JOB, request({ maxTokens: 1_000_000 }), meter);

    expect(answer.stopReason).toBe('max_tokens');
    expect(utf8Bytes(answer.text)).toBe(MAX_JOB_ANSWER_BYTES - 1);
    expect(answer.text).toBe(piece.repeat(348) + piece.slice(0, 101 + 427));
    // The piece that passed the cap was the last one read, and the stream was closed.
    expect(stream).toEqual({ pulled: 349, closed: true });
    // Billed for the 349 pieces streamed (the cut one whole), erring high as for any cut call.
    expect(answer.usage.outputTokens).toBe(estimateOutputTokens(piece.repeat(349)));
    expect(meter.usage.outputTokens).toBe(answer.usage.outputTokens);
    expect(world.usageRecords.recorded).toEqual([
      expect.objectContaining({ stopReason: 'max_tokens', costNanoUsd: meter.costNanoUsd }),
    ]);
    const month = await monthOfUser(world);
    expect(month.spentNanoUsd).toBe(meter.costNanoUsd);
    expect(month.heldNanoUsd).toBe(month.spentNanoUsd);
    expect(await world.ledger.listReservations()).toEqual([]);
  });

  it('reserves the worst case of the prompt and maxTokens, for a 15-minute lease', async () => {
    const world = createWorkerWorld({ model: [{ kind: 'answer', chunks: ['ok'] }] });

    await world.complete(JOB, request(), new JobMeter());

    const worstCase = world.prices.worstCaseNanoUsd(
      'claude-haiku-4-5',
      maxTokensOf(['You summarize documents.', 'Summarize this: a short memo.']),
      500,
    );
    expect(world.ledger.settled[0]?.reservation).toMatchObject({
      userId: USER_ID,
      amountNanoUsd: worstCase,
      expiresAtMs: world.clock.nowMs + 15 * 60_000,
    });
  });

  it('holds the reservation before the model is called and while the answer streams', async () => {
    let heldDuringCall = 0;
    const inner = new ScriptedModel([{ kind: 'answer', chunks: ['ok'] }]);
    const model: Model = {
      openStream: async (r) => {
        heldDuringCall = (await monthOfUser(world)).heldNanoUsd;
        return inner.openStream(r);
      },
      complete: (r) => inner.complete(r),
    };
    const world = createWorkerWorld({ model });

    await world.complete(JOB, request(), new JobMeter());

    expect(heldDuringCall).toBe(world.ledger.settled[0]?.reservation.amountNanoUsd);
    expect(heldDuringCall).toBeGreaterThan(0);
  });

  it('refuses a call that does not fit the budget with BudgetExceededError, without calling the model', async () => {
    const world = createWorkerWorld({ limits: { userMonthlyBudgetUsd: 0.000_001 } });
    const meter = new JobMeter();

    await expect(world.complete(JOB, request(), meter)).rejects.toBeInstanceOf(BudgetExceededError);

    expect((world.model as ScriptedModel).requests).toHaveLength(0);
    expect(await monthOfUser(world)).toMatchObject({ heldNanoUsd: 0, spentNanoUsd: 0 });
    expect(meter.costNanoUsd).toBe(0);
    expect(world.observer.modelCalls).toEqual([]);
  });

  it('releases the reservation when the model call fails before it starts, and charges nothing', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-before', error: 'overloaded' }],
      limits: { modelMaxRetries: 0 },
    });
    const meter = new JobMeter();

    const failure = world.complete(JOB, request(), meter);

    await expect(failure).rejects.toBeInstanceOf(ModelError);
    await expect(failure).rejects.toMatchObject({ kind: 'overloaded' });
    expect(await monthOfUser(world)).toMatchObject({
      heldNanoUsd: 0,
      spentNanoUsd: 0,
      requests: 0,
    });
    expect(world.ledger.settled).toEqual([]);
    expect(meter.usage.outputTokens).toBe(0);
    expect(world.observer.modelCalls).toEqual([]);
  });

  it('settles what an answer that broke off mid-stream spent, erring high, and holds nothing', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-mid', chunks: 3, error: 'connection' }],
    });
    const meter = new JobMeter();

    await expect(world.complete(JOB, request(), meter)).rejects.toMatchObject({
      kind: 'connection',
    });

    const month = await monthOfUser(world);
    expect(month.spentNanoUsd).toBeGreaterThan(0);
    expect(month.heldNanoUsd).toBe(month.spentNanoUsd);
    expect(await world.ledger.listReservations()).toEqual([]);
    // word1 word2 word3: 17 ASCII bytes, at one token per 3 bytes.
    expect(meter.usage.outputTokens).toBe(6);
  });

  it('never settles an estimate past max_tokens: Claude bills no more', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-mid', chunks: ['x'.repeat(3_000)], error: 'connection' }],
    });
    const meter = new JobMeter();

    await expect(world.complete(JOB, request({ maxTokens: 500 }), meter)).rejects.toThrow();

    expect(meter.usage.outputTokens).toBe(500);
  });

  it('aborts the call at its deadline, settles what it spent at once and holds nothing', async () => {
    const world = createWorkerWorld({ model: [{ kind: 'stall', chunks: 2 }] });
    const controller = new AbortController();
    const deadline = {
      signal: controller.signal,
      remainingMs: () => 0,
      invocationEndsAtMs: world.clock.nowMs + 1_000,
    };
    const meter = new JobMeter();

    const call = world.complete(JOB, request(), meter, deadline);
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();

    // A timeout, not the broken connection the abort makes of the stream (it said api_error).
    await expect(call).rejects.toMatchObject({ kind: 'timeout', type: 'timeout_error' });
    expect(await world.ledger.listReservations()).toEqual([]);
    expect(meter.costNanoUsd).toBeGreaterThan(0);
    expect((await monthOfUser(world)).heldNanoUsd).toBe(meter.costNanoUsd);
  });

  it('has a call Claude accepted billed all it holds should its function die mid-answer, not before', async () => {
    let markedBeforeOpen: unknown;
    const inner = new ScriptedModel([{ kind: 'stall', chunks: 2 }]);
    const world = createWorkerWorld({
      model: {
        openStream: async (r) => {
          markedBeforeOpen = (await world.ledger.listReservations())[0]?.ifAbandoned;
          return inner.openStream(r);
        },
        complete: async () => {
          throw new Error('not used');
        },
      },
    });
    const controller = new AbortController();
    const deadline = { signal: controller.signal, remainingMs: () => 0, invocationEndsAtMs: 0 };

    const call = world.complete(JOB, request(), new JobMeter(), deadline);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [streaming] = await world.ledger.listReservations();
    controller.abort();
    await call.catch(() => undefined);

    expect(markedBeforeOpen).toBeUndefined();
    expect(streaming?.ifAbandoned).toEqual({
      api: 'jobs',
      model: request().model,
      requestId: `${JOB_ID}:${streaming?.id}`,
      startedAtMs: world.clock.nowMs,
    });
  });

  it('settles a call cut while Claude thought unseen for what it can have generated meanwhile', async () => {
    const world = createWorkerWorld({ model: [{ kind: 'stall', chunks: 0, thinks: true }] });
    const controller = new AbortController();
    const deadline = { signal: controller.signal, remainingMs: () => 0, invocationEndsAtMs: 0 };

    const call = world.complete(JOB, request({ maxTokens: 5_000 }), new JobMeter(), deadline);
    await new Promise((resolve) => setTimeout(resolve, 5));
    world.clock.advance(1_200);
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: 'timeout' });

    // 1,200 ms at MAX_OUTPUT_TOKENS_PER_SECOND: nothing was shown.
    expect(world.ledger.settled[0]?.actual.usage.outputTokens).toBe(1_200);
  });

  it('reserves until a minute after the invocation ends, so a killed one is reclaimed soon', async () => {
    let expiresAtMs = 0;
    const world = createWorkerWorld({
      model: {
        openStream: async (r) => {
          expiresAtMs = (await world.ledger.listReservations())[0]?.expiresAtMs ?? 0;
          return new ScriptedModel([{ kind: 'answer', chunks: ['ok'] }]).openStream(r);
        },
        complete: async () => {
          throw new Error('not used');
        },
      },
    });
    const deadline = {
      signal: new AbortController().signal,
      remainingMs: () => 100_000,
      invocationEndsAtMs: world.clock.nowMs + 120_000,
    };

    await world.complete(JOB, request(), new JobMeter(), deadline);

    expect(expiresAtMs).toBe(world.clock.nowMs + 180_000);
  });

  it("waits out a short retry-after within the deadline and tries again, the SDK's retries off", async () => {
    const world = createWorkerWorld({
      model: [
        { kind: 'fail-before', error: 'rate_limited', retryAfterSeconds: 0.01 },
        { kind: 'answer', chunks: ['ok'] },
      ],
      limits: { modelMaxRetries: 2 },
    });

    const answer = await world.complete(JOB, request(), new JobMeter());

    expect(answer.text).toBe('ok');
    const model = world.model as ScriptedModel;
    expect(model.requests).toHaveLength(2);
    expect(model.requests.every((r) => r.maxRetries === 0)).toBe(true);
    expect(world.ledger.settled).toHaveLength(1);
    expect(await world.ledger.listReservations()).toEqual([]);
  });

  it('passes on a retry-after longer than maxRetryWaitMs at once, without waiting', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-before', error: 'rate_limited', retryAfterSeconds: 7 }],
      limits: { modelMaxRetries: 2, maxRetryWaitMs: 5_000 },
    });
    const started = Date.now();

    await expect(world.complete(JOB, request(), new JobMeter())).rejects.toMatchObject({
      kind: 'rate_limited',
      retryAfterSeconds: 7,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await world.ledger.listReservations()).toEqual([]);
  });

  it('passes on a retry-after that does not fit the time left before the deadline', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'fail-before', error: 'overloaded', retryAfterSeconds: 3 }],
      limits: { modelMaxRetries: 2, maxRetryWaitMs: 10_000 },
    });
    const deadline = {
      signal: new AbortController().signal,
      remainingMs: () => 4_000,
      invocationEndsAtMs: world.clock.nowMs + 9_000,
    };

    await expect(world.complete(JOB, request(), new JobMeter(), deadline)).rejects.toMatchObject({
      kind: 'overloaded',
      retryAfterSeconds: 3,
    });
    expect((world.model as ScriptedModel).requests).toHaveLength(1);
  });

  it('records each call with its usage and exact cost for the observer', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }],
    });

    await world.complete(JOB, request(), new JobMeter());

    expect(world.observer.modelCalls).toEqual([
      { usage: expect.objectContaining(EXACT_USAGE), costNanoUsd: EXACT_COST_NANO_USD },
    ]);
  });

  it("adds every call's usage and cost to the job's meter", async () => {
    const world = createWorkerWorld({
      model: [
        { kind: 'answer', chunks: ['one'], usage: EXACT_USAGE },
        { kind: 'answer', chunks: ['two'], usage: EXACT_USAGE },
      ],
    });
    const meter = new JobMeter();

    await world.complete(JOB, request(), meter);
    await world.complete(JOB, request(), meter);

    expect(meter.costNanoUsd).toBe(2 * EXACT_COST_NANO_USD);
    expect(meter.usage).toMatchObject({
      inputTokens: 2_000,
      outputTokens: 400,
      cacheReadInputTokens: 100,
      cacheCreationInputTokens: 20,
    });
  });

  it('prices the call at the model it asked for', async () => {
    const world = createWorkerWorld({
      model: [{ kind: 'answer', chunks: ['ok'], usage: EXACT_USAGE }],
    });
    const sonnetCost = world.prices.costNanoUsd('claude-sonnet-4-5', EXACT_USAGE);

    await world.complete(JOB, request({ model: 'claude-sonnet-4-5' }), new JobMeter());

    expect(sonnetCost).not.toBe(EXACT_COST_NANO_USD);
    expect(world.ledger.settled[0]?.actual.costNanoUsd).toBe(sonnetCost);
  });

  it('sends the request to the model with the deadline signal and no SDK retries', async () => {
    const world = createWorkerWorld({ model: [{ kind: 'answer', chunks: ['ok'] }] });
    const sent = request({ timeoutMs: 12_000, maxRetries: 3 });

    await world.complete(JOB, sent, new JobMeter());

    const [received] = (world.model as ScriptedModel).requests;
    expect(received).toEqual({ ...sent, maxRetries: 0, signal: expect.any(AbortSignal) });
  });

  describe('a job asked for with an API key', () => {
    it("holds each call on the key's month too and reports it under the key", async () => {
      const world = await worldWithKey(
        { monthlyBudgetUsd: 5 },
        { model: [{ kind: 'answer', chunks: ['The memo.'], usage: EXACT_USAGE }] },
      );

      await world.complete(KEYED_JOB, request(), new JobMeter());

      expect(world.ledger.settled[0]?.reservation.keyId).toBe(KEY_ID);
      expect(await world.ledger.keyMonth(KEY_ID, monthOf(world.clock.nowMs))).toMatchObject({
        requests: 1,
        spentNanoUsd: EXACT_COST_NANO_USD,
        heldNanoUsd: EXACT_COST_NANO_USD,
      });
      expect(world.usageRecords.recorded).toEqual([
        expect.objectContaining({ principal: USER_ID, keyId: KEY_ID, api: 'jobs' }),
      ]);
    });

    it('reports a call that cost more than its reservation with the job, its principal, the key and the reservation', async () => {
      // Far more input than the prompt's bytes let the reservation expect.
      const usage = { ...EXACT_USAGE, inputTokens: 1_000_000 };
      const world = await worldWithKey(
        { monthlyBudgetUsd: 50 },
        { model: [{ kind: 'answer', chunks: ['The memo.'], usage }] },
      );

      await world.complete(KEYED_JOB, request(), new JobMeter());

      const reservation = world.ledger.settled[0]?.reservation;
      expect(world.observer.overruns).toEqual([
        {
          overrunNanoUsd: expect.any(Number),
          jobId: JOB_ID,
          userId: USER_ID,
          apiKeyId: KEY_ID,
          reservationId: reservation?.id,
        },
      ]);
      expect(world.observer.overruns[0]?.overrunNanoUsd).toBe(
        world.prices.costNanoUsd('claude-haiku-4-5', usage) - (reservation?.amountNanoUsd ?? 0),
      );
    });

    it("refuses a call the key's own budget cannot hold, without calling the model or holding anything", async () => {
      const world = await worldWithKey({ monthlyBudgetUsd: 0.000_001 });

      const refused = world.complete(KEYED_JOB, request(), new JobMeter());

      await expect(refused).rejects.toBeInstanceOf(BudgetExceededError);
      await expect(refused).rejects.toMatchObject({ type: 'billing_error' });
      expect((world.model as ScriptedModel).requests).toHaveLength(0);
      expect(await monthOfUser(world)).toMatchObject({ heldNanoUsd: 0, spentNanoUsd: 0 });
      expect(world.usageRecords.recorded).toEqual([]);
    });

    it('reads the key as each call is made: a budget lowered after the job was queued binds it', async () => {
      const world = await worldWithKey({ monthlyBudgetUsd: 5 });
      await world.apiKeys.changeLimits(KEY_ID, { monthlyBudgetUsd: 0.000_001 });

      await expect(world.complete(KEYED_JOB, request(), new JobMeter())).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      expect((world.model as ScriptedModel).requests).toHaveLength(0);
    });

    it('spends nothing more once the key is revoked or expired: the job fails, its message kept out of the dead letters', async () => {
      for (const key of [
        { revokedAt: '2026-01-01T00:00:00.000Z' },
        { expiresAt: '2000-01-01T00:00:00.000Z' },
      ]) {
        const world = await worldWithKey(key);

        const refused = world.complete(KEYED_JOB, request(), new JobMeter());

        await expect(refused).rejects.toBeInstanceOf(PermanentJobError);
        await expect(refused).rejects.toMatchObject({
          type: 'authentication_error',
          deadLetter: false,
          message: expect.stringContaining(KEY_ID),
        });
        expect((world.model as ScriptedModel).requests).toHaveLength(0);
        expect(world.ledger.settled).toEqual([]);
        expect(await monthOfUser(world)).toMatchObject({ heldNanoUsd: 0 });
      }
    });

    it("refuses a key that is not the job's user's, or not there, as a message at fault", async () => {
      for (const world of [
        await worldWithKey({ principal: 'someone-else' }),
        createWorkerWorld(),
      ]) {
        const refused = world.complete(KEYED_JOB, request(), new JobMeter());

        await expect(refused).rejects.toMatchObject({
          type: 'permission_error',
          deadLetter: true,
        });
        expect((world.model as ScriptedModel).requests).toHaveLength(0);
      }
    });
  });
});
