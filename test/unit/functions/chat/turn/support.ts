import { randomUUID } from 'node:crypto';
import { createChatTurn, type LiveTurn } from '../../../../../functions/chat/turn/chat-turn.js';
import { createCompactionRequests } from '../../../../../functions/chat/turn/compaction-requests.js';
import { createTurnCache } from '../../../../../functions/chat/turn/turn-cache.js';
import type {
  TurnEvent,
  TurnLimits,
  TurnObserver,
  TurnRequest,
  TurnSummary,
} from '../../../../../functions/chat/turn/turn-types.js';
import { monthOf } from '../../../../../shared/domain/budget.js';
import type { Clock } from '../../../../../shared/domain/clock.js';
import { PriceTable } from '../../../../../shared/domain/pricing/price-table.js';
import type { TokenUsage } from '../../../../../shared/domain/usage.js';
import type { Model, ModelRequest } from '../../../../../shared/ports/model.js';
import type { RateLimits, RateWindow } from '../../../../../shared/ports/rate-limiter.js';
import { createTurnRecovery } from '../../../../../shared/turns/recover-turn.js';
import { createAdmission } from '../../../../../shared/usage/admission.js';
import { createBudgetReserver } from '../../../../../shared/usage/budget-reserver.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { InMemoryJobStore } from '../../../../fakes/in-memory-job-store.js';
import { InMemoryRateLimiter } from '../../../../fakes/in-memory-rate-limiter.js';
import { InMemoryResponseCache } from '../../../../fakes/in-memory-response-cache.js';
import { InMemoryUsageLedger } from '../../../../fakes/in-memory-usage-ledger.js';
import { InMemoryUsageRecords } from '../../../../fakes/in-memory-usage-records.js';
import { RecordingJobQueue } from '../../../../fakes/recording-job-queue.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';

/** 10:00:00 UTC, the start of a minute (so of a rate window). */
export const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');
export const MONTH = monthOf(NOW_MS);

export const SONNET = 'claude-sonnet-4-6';
export const HAIKU = 'claude-haiku-4-5';
export const OPUS = 'claude-opus-4-6';

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(startMs = NOW_MS): ManualClock {
  let nowMs = startMs;
  return Object.assign(() => nowMs, {
    advance: (ms: number) => {
      nowMs += ms;
    },
  });
}

/** Limits small enough to reach in a test; the stop poll runs every 5 ms of real time. */
export const LIMITS: TurnLimits = {
  defaultModel: SONNET,
  models: new Set([SONNET, HAIKU]),
  fallbackModel: HAIKU,
  maxOutputTokens: 1_024,
  contextWindowTokens: 10_000,
  modelTimeoutMs: 10_000,
  modelMaxRetries: 0,
  firstByteTimeoutMs: 60_000,
  streamIdleTimeoutMs: 1_000,
  deadlineMarginMs: 5_000,
  stopPollIntervalMs: 5,
  turnLeaseMs: 60_000,
  answerPieceIntervalMs: 5,
};

export const USER = 'alice';

export const BUDGETS = { userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 1_000 };

/** A TurnObserver that keeps everything it is told, in order. */
export class RecordingTurnObserver implements TurnObserver {
  /** The name of every call, oldest first (a test may log its own marks in between). */
  readonly calls: string[] = [];
  readonly rejections: Error[] = [];
  readonly startFailures: unknown[] = [];
  readonly firstTokenLatenciesMs: number[] = [];
  readonly answersNotStored: unknown[] = [];
  readonly settlementFailures: Array<Parameters<TurnObserver['settlementFailed']>[0]> = [];
  readonly rateWindowErrors: unknown[] = [];
  readonly compactionErrors: unknown[] = [];
  readonly pieceErrors: unknown[] = [];
  readonly usageRecordErrors: unknown[] = [];
  readonly overruns: Array<Parameters<TurnObserver['budgetOverrun']>[0]> = [];
  readonly shortenedPrompts: Array<Parameters<TurnObserver['promptShortened']>[0]> = [];
  readonly summaries: TurnSummary[] = [];

  rejected(error: Error): void {
    this.calls.push('rejected');
    this.rejections.push(error);
  }
  started(): void {
    this.calls.push('started');
  }
  failedToStart(error: unknown): void {
    this.calls.push('failedToStart');
    this.startFailures.push(error);
  }
  firstToken(latencyMs: number): void {
    this.calls.push('firstToken');
    this.firstTokenLatenciesMs.push(latencyMs);
  }
  answerNotStored(error: unknown): void {
    this.calls.push('answerNotStored');
    this.answersNotStored.push(error);
  }
  settlementFailed(details: Parameters<TurnObserver['settlementFailed']>[0]): void {
    this.calls.push('settlementFailed');
    this.settlementFailures.push(details);
  }
  rateWindowNotCorrected(error: unknown): void {
    this.calls.push('rateWindowNotCorrected');
    this.rateWindowErrors.push(error);
  }
  budgetOverrun(details: Parameters<TurnObserver['budgetOverrun']>[0]): void {
    this.calls.push('budgetOverrun');
    this.overruns.push(details);
  }
  promptShortened(details: Parameters<TurnObserver['promptShortened']>[0]): void {
    this.calls.push('promptShortened');
    this.shortenedPrompts.push(details);
  }
  pieceNotSaved(error: unknown): void {
    this.calls.push('pieceNotSaved');
    this.pieceErrors.push(error);
  }
  compactionNotRequested(error: unknown): void {
    this.calls.push('compactionNotRequested');
    this.compactionErrors.push(error);
  }
  usageNotRecorded(error: unknown): void {
    this.calls.push('usageNotRecorded');
    this.usageRecordErrors.push(error);
  }
  async ended(summary: TurnSummary): Promise<void> {
    this.calls.push('ended');
    this.summaries.push(summary);
  }
}

export interface ChatFixtureOptions {
  /** The fakes, or subclasses of them that fail where a test needs it. */
  model?: ScriptedModel;
  /** What the turn calls instead of the scripted model itself, e.g. `slowToStart`. */
  wrapModel?: (model: ScriptedModel) => Model;
  store?: InMemoryConversationStore;
  ledger?: InMemoryUsageLedger;
  rateLimiter?: InMemoryRateLimiter;
  /** @default 100 requests and 1M tokens a minute */
  rateLimits?: RateLimits;
  jobs?: InMemoryJobStore;
  observer?: RecordingTurnObserver;
  /** The turn's prices. */
  prices?: PriceTable;
  /** The prices budgets are reserved at. @default the turn's */
  budgetPrices?: PriceTable;
  limits?: Partial<TurnLimits>;
  /** Seconds a first answer is kept in the response cache. @default 0: off */
  cacheTtlSeconds?: number;
  /** @default 100_000: no compaction */
  compactionThresholdTokens?: number;
  /** What the function has left, as Lambda's context reports it. @default 60_000 */
  remainingTimeMs?: number;
}

/** The chat turn on the fakes, with every fake for a test to look into. */
export function chatFixture(options: ChatFixtureOptions = {}) {
  const clock = manualClock();
  const store = options.store ?? new InMemoryConversationStore();
  const model = options.model ?? new ScriptedModel();
  const ledger = options.ledger ?? new InMemoryUsageLedger();
  const rateLimiter = options.rateLimiter ?? new InMemoryRateLimiter();
  const jobs = options.jobs ?? new InMemoryJobStore();
  const queue = new RecordingJobQueue();
  const prices = options.prices ?? new PriceTable();
  const limits: TurnLimits = { ...LIMITS, ...options.limits };
  const admission = createAdmission({
    budget: createBudgetReserver({
      ledger,
      prices: options.budgetPrices ?? prices,
      limits: BUDGETS,
    }),
    ledger,
    rateLimiter,
    userRateLimits: options.rateLimits ?? { requestsPerMinute: 100, tokensPerMinute: 1_000_000 },
    onLeftHeld: () => {},
  });
  const usageRecords = new InMemoryUsageRecords();
  const recover = createTurnRecovery({ store, ledger, usageRecords, prices, clock });
  const responseCache = new InMemoryResponseCache();
  const chatTurn = createChatTurn({
    store,
    model: options.wrapModel ? options.wrapModel(model) : model,
    admission,
    recover,
    prices,
    compaction: createCompactionRequests({
      jobs,
      queue,
      clock,
      thresholdTokens: options.compactionThresholdTokens ?? 100_000,
    }),
    turnCache: createTurnCache({
      cache: responseCache,
      ttlSeconds: options.cacheTtlSeconds ?? 0,
      scope: 'principal',
      onError: (error) => {
        throw error;
      },
    }),
    usageRecords,
    clock,
    limits,
  });
  const observer = options.observer ?? new RecordingTurnObserver();
  const context = {
    observer,
    remainingTimeMs: () => options.remainingTimeMs ?? 60_000,
  };
  const start = (request: Partial<TurnRequest> & { message: string }) =>
    chatTurn.start({ userId: USER, ...request }, { ...context, requestId: randomUUID() });

  return {
    clock,
    recover,
    store,
    model,
    ledger,
    rateLimiter,
    jobs,
    queue,
    prices,
    limits,
    observer,
    responseCache,
    usageRecords,
    start,
    /** Starts a turn and runs it to its end. */
    async chat(request: Partial<TurnRequest> & { message: string }) {
      const turn = await start(request);
      return { turn, events: await runToEnd(turn) };
    },
    /** What the user holds and spent this month. */
    month: (userId = USER) => ledger.userMonth(userId, MONTH),
    /** The messages of a conversation, oldest first. */
    async messages(conversationId: string, userId = USER) {
      return (await store.listMessages(userId, conversationId, { limit: 100 })).items;
    },
    /** The user's conversations, newest first. */
    async conversations(userId = USER) {
      return (await store.listConversations(userId, { limit: 100 })).items;
    },
  };
}

export type ChatFixture = ReturnType<typeof chatFixture>;

/** Runs a live turn and returns every event it emitted. */
export async function runToEnd(
  turn: LiveTurn,
  onEvent: (event: TurnEvent) => void = () => {},
): Promise<TurnEvent[]> {
  const events: TurnEvent[] = [];
  await turn.run((event) => {
    events.push(event);
    onEvent(event);
  });
  return events;
}

/** The text the events streamed, in order. */
export function streamedText(events: readonly TurnEvent[]): string {
  return events.map((event) => (event.type === 'text' ? event.text : '')).join('');
}

/** The rate window a request at NOW_MS counts in. */
export function windowAt(
  userId = USER,
  nowMs = NOW_MS,
): Pick<RateWindow, 'subject' | 'windowStartMs'> {
  return { subject: `user:${userId}`, windowStartMs: nowMs - (nowMs % 60_000) };
}

/** Usage with every kind of token, for exact cost checks. */
export function usageOf(partial: Partial<TokenUsage>): TokenUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    ...partial,
  };
}

/**
 * The scripted model, slow to start as a model the SDK keeps retrying: each openStream
 * waits until its request is aborted, then runs as scripted (which, aborted, fails as
 * the adapter does). `waiting` holds the requests under way.
 */
export function slowToStart(model: ScriptedModel): Model & { waiting: ModelRequest[] } {
  const waiting: ModelRequest[] = [];
  return {
    waiting,
    async openStream(request) {
      waiting.push(request);
      await new Promise<void>((resolve) => {
        if (request.signal?.aborted) resolve();
        request.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      return model.openStream(request);
    },
    complete: (request) => model.complete(request),
  };
}
