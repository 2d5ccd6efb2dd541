import { describe, expect, it } from 'vitest';
import type { TurnSummary } from '../../../../../functions/chat/turn/turn-types.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';
import type { BeginTurn, FinishTurn } from '../../../../../shared/ports/conversation-store.js';
import type { Job } from '../../../../../shared/ports/job-store.js';
import type { ModelRequest, ModelStream } from '../../../../../shared/ports/model.js';
import type { RateWindow } from '../../../../../shared/ports/rate-limiter.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { InMemoryJobStore } from '../../../../fakes/in-memory-job-store.js';
import { InMemoryRateLimiter } from '../../../../fakes/in-memory-rate-limiter.js';
import { InMemoryUsageLedger } from '../../../../fakes/in-memory-usage-ledger.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import { chatFixture, LIMITS, RecordingTurnObserver, runToEnd, SONNET, USER } from './support.js';

const answering = () => new ScriptedModel(() => ({ kind: 'answer', chunks: ['ok'] }));
const unreachable = () => new Error('the table is unreachable');

class UnsettlingLedger extends InMemoryUsageLedger {
  override async settle(): Promise<never> {
    throw unreachable();
  }
}

/** A store whose new conversations' first write fails. */
class QuestionlessStore extends InMemoryConversationStore {
  override async beginTurn(_: BeginTurn): Promise<number> {
    throw unreachable();
  }
}

describe('what a chat turn leaves behind', () => {
  it('reports a failed settlement to the observer and still ends with done', async () => {
    const f = chatFixture({ model: answering(), ledger: new UnsettlingLedger() });

    const { turn, events } = await f.chat({ message: 'hi' });

    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(f.observer.settlementFailures).toEqual([
      {
        error: expect.objectContaining({ message: 'the table is unreachable' }),
        reservationId: expect.any(String),
        costNanoUsd: done.costNanoUsd,
        usage: done.usage,
      },
    ]);
    // The reservation keeps holding the worst case: the budget stays safe.
    expect((await f.month()).heldNanoUsd).toBeGreaterThan(done.costNanoUsd);
    expect((await f.messages(turn.conversationId)).at(-1)).toMatchObject({ content: 'ok' });
  });

  it('reports a failed settlement of a call whose question could not be stored, as of one whose answer was', async () => {
    const f = chatFixture({
      model: answering(),
      ledger: new UnsettlingLedger(),
      store: new QuestionlessStore(),
    });

    await expect(f.start({ message: 'hi' })).rejects.toThrow('the table is unreachable');

    expect(f.model.requests).toHaveLength(1);
    expect(f.observer.settlementFailures).toEqual([
      {
        error: expect.objectContaining({ message: 'the table is unreachable' }),
        reservationId: expect.any(String),
        costNanoUsd: expect.any(Number),
        usage: expect.objectContaining({ inputTokens: expect.any(Number) }),
      },
    ]);
    expect(f.observer.settlementFailures[0]?.costNanoUsd).toBeGreaterThan(0);
  });

  it("cuts a new conversation's model call as soon as its question's write fails: nothing billed for an answer no one sees", async () => {
    const slowToStart = new (class extends ScriptedModel {
      override async openStream(request: ModelRequest): Promise<ModelStream> {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 300);
          request.signal?.addEventListener('abort', () => resolve(clearTimeout(timer)));
        });
        return super.openStream(request);
      }
    })(() => ({ kind: 'answer', chunks: ['ok'] }));
    const f = chatFixture({ model: slowToStart, store: new QuestionlessStore() });

    await expect(f.start({ message: 'hi' })).rejects.toThrow('the table is unreachable');

    expect(slowToStart.requests[0]?.signal?.aborted).toBe(true);
    expect(await f.month()).toMatchObject({ spentNanoUsd: 0, heldNanoUsd: 0 });
    expect(f.usageRecords.recorded).toEqual([]);
  });

  it('records an answer that cost more than its reservation, reports the overrun and refuses the next turn', async () => {
    // A prompt counted far above any estimate (server tools, images): 5M tokens at $3/M.
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'answer', chunks: ['ok'], usage: { inputTokens: 5_000_000 } },
      ]),
      rateLimits: { requestsPerMinute: 100, tokensPerMinute: 1e9 },
    });

    const { events } = await f.chat({ message: 'hi' });

    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.costNanoUsd).toBeGreaterThan(10_000_000_000);
    expect(f.observer.overruns).toEqual([
      { overrunNanoUsd: expect.any(Number), reservationId: expect.any(String) },
    ]);
    const month = await f.month();
    expect(month.spentNanoUsd).toBe(done.costNanoUsd);
    expect(f.observer.overruns[0]!.overrunNanoUsd).toBeLessThan(done.costNanoUsd);
    await expect(f.start({ message: 'again' })).rejects.toMatchObject({
      name: 'BudgetExceededError',
    });
  });

  it('reports a rate window it could not correct and still ends with done', async () => {
    class StuckRateLimiter extends InMemoryRateLimiter {
      override async adjust(_: RateWindow, __: number): Promise<void> {
        throw unreachable();
      }
    }
    const f = chatFixture({
      model: answering(),
      rateLimiter: new StuckRateLimiter(),
    });

    const { events } = await f.chat({ message: 'hi' });

    expect(events.at(-1)?.type).toBe('done');
    expect(f.observer.rateWindowErrors).toEqual([unreachable()]);
    expect(f.ledger.settled).toHaveLength(1);
  });

  it('ends with an error, and still settles the cost, when the answer cannot be stored', async () => {
    class AnswerlessStore extends InMemoryConversationStore {
      override async finishTurn(_: FinishTurn): Promise<void> {
        throw unreachable();
      }
    }
    const f = chatFixture({ model: answering(), store: new AnswerlessStore() });

    const { events } = await f.chat({ message: 'hi' });

    const last = events.at(-1);
    expect(last?.type === 'error' && last.error).toMatchObject({ kind: 'api_error' });
    expect(f.observer.answersNotStored).toEqual([unreachable()]);
    expect(f.ledger.settled).toHaveLength(1);
    expect((await f.month()).spentNanoUsd).toBeGreaterThan(0);
    expect(f.observer.summaries[0]?.failure).toMatchObject({ kind: 'api_error' });
  });

  it("queues a compaction of the conversation once its history passes the threshold, not before, with the turn's model", async () => {
    const f = chatFixture({ model: answering(), compactionThresholdTokens: 100 });
    const question = 'x'.repeat(160); // 40 tokens, and 1 for each answer

    const { conversationId } = (await f.chat({ message: question })).turn;
    await f.chat({ conversationId, message: question });
    const sentBelow = [...f.queue.sent];
    await f.chat({ conversationId, message: question });

    expect(sentBelow).toEqual([]);
    expect(f.queue.sent).toEqual([
      {
        type: 'summarize.conversation',
        userId: USER,
        conversationId,
        model: SONNET,
        summaryThroughSeq: 0,
        jobId: expect.any(String),
      },
    ]);
    const job = await f.jobs.get(USER, f.queue.sent[0]!.jobId);
    expect(job).toMatchObject<Partial<Job>>({ status: 'queued', type: 'summarize.conversation' });
  });

  it('reports a compaction it could not request and still ends with done', async () => {
    class UnreachableJobStore extends InMemoryJobStore {
      override async create(): Promise<Job> {
        throw unreachable();
      }
    }
    const f = chatFixture({
      model: answering(),
      jobs: new UnreachableJobStore(),
      compactionThresholdTokens: 1,
    });

    const { conversationId } = (await f.chat({ message: 'a question long enough to compact' }))
      .turn;
    await f.chat({ conversationId, message: 'and another' });
    const { events } = await f.chat({ conversationId, message: 'and one more' });

    expect(events.at(-1)?.type).toBe('done');
    // The third turn is the first with messages older than those a compaction keeps.
    expect(f.observer.compactionErrors).toEqual([unreachable()]);
    expect(f.queue.sent).toEqual([]);
  });
});

describe('a chat turn that breaks unexpectedly', () => {
  it('never rejects, and ends with an error event, when the answer cannot be priced', async () => {
    const unpriced = 'claude-unpriced-1';
    const price = { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 };
    const f = chatFixture({
      model: answering(),
      limits: { models: new Set([...LIMITS.models, unpriced]) },
      prices: new PriceTable(),
      budgetPrices: new PriceTable({ [unpriced]: price }),
    });
    const turn = await f.start({ message: 'hi', model: unpriced });
    const events: string[] = [];

    const run = turn.run((event) => events.push(event.type));

    await expect(run).resolves.toBeUndefined();
    expect(events).toEqual(['start', 'text', 'error']);
  });

  it('still ends with done when the observer fails: observing never fails an answer', async () => {
    class FailingObserver extends RecordingTurnObserver {
      override async ended(_: TurnSummary): Promise<void> {
        throw new Error('metrics are broken');
      }
    }
    const f = chatFixture({ model: answering(), observer: new FailingObserver() });
    const turn = await f.start({ message: 'hi' });

    const events = await runToEnd(turn);

    expect(events.at(-1)?.type).toBe('done');
    expect(await f.messages(turn.conversationId)).toHaveLength(2);
  });
});
