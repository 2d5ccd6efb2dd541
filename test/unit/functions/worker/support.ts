import type { SQSRecord } from 'aws-lambda';
import { AnswerEnds } from '../../../../functions/worker/answer-ends.js';
import { createBatchRounds } from '../../../../functions/worker/batch-rounds.js';
import { createConversationCompactor } from '../../../../functions/worker/compact-conversation.js';
import { type JobDeadline, NO_DEADLINE } from '../../../../functions/worker/job-deadline.js';
import { createJobKeyGrant } from '../../../../functions/worker/job-key.js';
import type { JobObserver } from '../../../../functions/worker/job-observer.js';
import type { JobRun, RunRound } from '../../../../functions/worker/job-run.js';
import { createJobCallRecorder } from '../../../../functions/worker/job-usage.js';
import { createMeteredModel, JobMeter } from '../../../../functions/worker/metered-model.js';
import { createRecordHandler } from '../../../../functions/worker/process-record.js';
import { createJobRunner } from '../../../../functions/worker/run-job.js';
import { createStandardRounds } from '../../../../functions/worker/standard-rounds.js';
import {
  createDocumentSummarizer,
  type SummaryLimits,
} from '../../../../functions/worker/summarize-document.js';
import { toSqsRecord } from '../../../../local-stack/lambda-runtime/sqs-record.js';
import { createBudgetWatch } from '../../../../shared/budget/budget-watch.js';
import type { Clock } from '../../../../shared/domain/clock.js';
import { PriceTable } from '../../../../shared/domain/pricing/price-table.js';
import { estimateTokens } from '../../../../shared/domain/tokens.js';
import type { TokenUsage } from '../../../../shared/domain/usage.js';
import type { KeptAnswer, PendingBatch } from '../../../../shared/ports/job-store.js';
import type { QueueMessage } from '../../../../shared/ports/message-actions.js';
import type {
  Model,
  ModelAnswer,
  ModelRequest,
  ModelStream,
} from '../../../../shared/ports/model.js';
import {
  type BudgetLimits,
  createBudgetReserver,
} from '../../../../shared/usage/budget-reserver.js';
import { InMemoryApiKeyStore } from '../../../fakes/in-memory-api-key-store.js';
import { InMemoryBudgetNotices } from '../../../fakes/in-memory-budget-notices.js';
import { InMemoryConversationStore } from '../../../fakes/in-memory-conversation-store.js';
import { InMemoryJobStore } from '../../../fakes/in-memory-job-store.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';
import { InMemoryUsageRecords } from '../../../fakes/in-memory-usage-records.js';
import { RecordingEventPublisher } from '../../../fakes/recording-event-publisher.js';
import { RecordingMessageActions } from '../../../fakes/recording-message-actions.js';
import { type ModelScript, ScriptedModel } from '../../../fakes/scripted-model.js';
import { ScriptedModelBatches } from '../../../fakes/scripted-model-batches.js';

/** The JobObserver port recording every observation, in order. */
export class RecordingJobObserver implements JobObserver {
  readonly invalidMessages: Array<Parameters<JobObserver['invalidMessage']>[0]> = [];
  readonly modelCalls: Array<{ usage: TokenUsage; costNanoUsd: number }> = [];
  readonly successes: Array<Parameters<JobObserver['succeeded']>[0]> = [];
  readonly failedAttempts: Array<Parameters<JobObserver['attemptFailed']>[0]> = [];
  readonly cancellations: Array<Parameters<JobObserver['cancelled']>[0]> = [];
  readonly batchesNotCancelled: Array<Parameters<JobObserver['batchNotCancelled']>[0]> = [];
  readonly overruns: Array<Parameters<JobObserver['budgetOverrun']>[0]> = [];
  readonly notPublishedErrors: unknown[] = [];
  readonly usageNotRecordedErrors: unknown[] = [];
  readonly settlementFailures: Array<Parameters<JobObserver['settlementFailed']>[0]> = [];
  readonly deferrals: Array<Parameters<JobObserver['deferred']>[0]> = [];
  readonly conflicts: Array<Parameters<JobObserver['conflict']>[0]> = [];
  readonly endedAlready: Array<Parameters<JobObserver['alreadyEnded']>[0]> = [];
  readonly redrives: Array<Parameters<JobObserver['redriven']>[0]> = [];
  /** Jobs ended as failed for good. */
  failures = 0;

  invalidMessage(details: Parameters<JobObserver['invalidMessage']>[0]): void {
    this.invalidMessages.push(details);
  }

  modelCall(usage: TokenUsage, costNanoUsd: number): void {
    this.modelCalls.push({ usage, costNanoUsd });
  }

  budgetOverrun(details: Parameters<JobObserver['budgetOverrun']>[0]): void {
    this.overruns.push(details);
  }

  succeeded(details: Parameters<JobObserver['succeeded']>[0]): void {
    this.successes.push(details);
  }

  cancelled(details: Parameters<JobObserver['cancelled']>[0]): void {
    this.cancellations.push(details);
  }

  batchNotCancelled(details: Parameters<JobObserver['batchNotCancelled']>[0]): void {
    this.batchesNotCancelled.push(details);
  }

  attemptFailed(details: Parameters<JobObserver['attemptFailed']>[0]): void {
    this.failedAttempts.push(details);
  }

  failed(): void {
    this.failures += 1;
  }

  /** The events named with each error of `notPublishedErrors`. */
  readonly notPublishedEvents: Array<Parameters<JobObserver['notPublished']>[1]> = [];
  notPublished(error: unknown, event?: Parameters<JobObserver['notPublished']>[1]): void {
    this.notPublishedErrors.push(error);
    this.notPublishedEvents.push(event);
  }

  readonly checkpointsNotForgottenErrors: unknown[] = [];
  checkpointsNotForgotten(error: unknown): void {
    this.checkpointsNotForgottenErrors.push(error);
  }

  /** The job call of each error of `usageNotRecordedErrors`. */
  readonly usageNotRecordedCalls: Array<Parameters<JobObserver['usageNotRecorded']>[1]> = [];
  usageNotRecorded(error: unknown, call: Parameters<JobObserver['usageNotRecorded']>[1]): void {
    this.usageNotRecordedErrors.push(error);
    this.usageNotRecordedCalls.push(call);
  }

  settlementFailed(details: Parameters<JobObserver['settlementFailed']>[0]): void {
    this.settlementFailures.push(details);
  }

  deferred(details: Parameters<JobObserver['deferred']>[0]): void {
    this.deferrals.push(details);
  }

  conflict(details: Parameters<JobObserver['conflict']>[0]): void {
    this.conflicts.push(details);
  }

  redriven(details: Parameters<JobObserver['redriven']>[0]): void {
    this.redrives.push(details);
  }

  alreadyEnded(details: Parameters<JobObserver['alreadyEnded']>[0]): void {
    this.endedAlready.push(details);
  }

  readonly recordFailures: Array<Parameters<JobObserver['recordFailed']>[0]> = [];
  recordFailed(details: Parameters<JobObserver['recordFailed']>[0]): void {
    this.recordFailures.push(details);
  }
}

/** A clock that moves only when a test moves it. */
export class ManualClock {
  constructor(public nowMs = Date.parse('2026-03-14T09:00:00.000Z')) {}

  readonly read: Clock = () => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }

  iso(): string {
    return new Date(this.nowMs).toISOString();
  }
}

/**
 * A Model that holds each call open for `delayMs` (real timers, a few milliseconds)
 * and counts how many calls are open at once.
 */
export class ConcurrencyCountingModel implements Model {
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly inner: ScriptedModel,
    private readonly delayMs: (request: ModelRequest) => number = () => 2,
  ) {}

  async openStream(request: ModelRequest): Promise<ModelStream> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let open = true;
    const close = () => {
      if (open) this.inFlight -= 1;
      open = false;
    };
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs(request)));
      const stream = await this.inner.openStream(request);
      return {
        model: stream.model,
        initialUsage: stream.initialUsage,
        async *[Symbol.asyncIterator]() {
          try {
            yield* stream;
          } finally {
            close();
          }
        },
      };
    } catch (error) {
      close();
      throw error;
    }
  }

  async complete(request: ModelRequest): Promise<ModelAnswer> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs(request)));
      return await this.inner.complete(request);
    } finally {
      this.inFlight -= 1;
    }
  }
}

/** The one user prompt a summarizer call sends. */
export function promptOf(request: ModelRequest): string {
  return request.messages.map((m) => m.blocks.map((b) => b.text).join('')).join('\n');
}

/** A model that answers every call with the same text. */
export function answering(text: string): ScriptedModel {
  return new ScriptedModel(() => ({ kind: 'answer', chunks: [text] }));
}

export const WORKER_LIMITS: SummaryLimits &
  BudgetLimits & {
    jobRetryBaseSeconds: number;
    summaryConcurrency: number;
    modelTimeoutMs: number;
    modelMaxRetries: number;
    maxRetryWaitMs: number;
    batchPollSeconds: number;
    deadlineMarginMs: number;
  } = {
  defaultModel: 'claude-haiku-4-5',
  models: new Set(['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-sonnet-4-6']),
  summaryMaxTokens: 64,
  documentChunkTokens: 40,
  summaryConcurrency: 2,
  modelTimeoutMs: 30_000,
  modelMaxRetries: 1,
  maxRetryWaitMs: 10_000,
  batchPollSeconds: 60,
  deadlineMarginMs: 5_000,
  userMonthlyBudgetUsd: 10,
  globalMonthlyBudgetUsd: 1_000,
  jobRetryBaseSeconds: 30,
};

/**
 * A document of `count` sections of about 28 estimated tokens each, one paragraph
 * apiece: with `documentChunkTokens` 40, each section is one part.
 */
export function sections(count: number): string {
  return Array.from({ length: count }, (_, i) => `Section ${i}: ${'fact '.repeat(20).trim()}`).join(
    '\n\n',
  );
}

/**
 * The worker's use cases wired on the fakes exactly as `compose.ts` wires them on the
 * real adapters.
 */
export function createWorkerWorld(
  options: {
    model?: Model | ModelScript[];
    batches?: ScriptedModelBatches;
    limits?: Partial<typeof WORKER_LIMITS>;
  } = {},
) {
  const model =
    options.model === undefined
      ? answering('A faithful summary.')
      : Array.isArray(options.model)
        ? new ScriptedModel(options.model)
        : options.model;
  const limits = { ...WORKER_LIMITS, ...options.limits };
  const ledger = new InMemoryUsageLedger();
  const prices = new PriceTable();
  const clock = new ManualClock();
  const observer = new RecordingJobObserver();
  const jobs = new InMemoryJobStore();
  const conversations = new InMemoryConversationStore();
  const messages = new RecordingMessageActions();
  const events = new RecordingEventPublisher();
  const notices = new InMemoryBudgetNotices();
  const batches = options.batches ?? new ScriptedModelBatches();
  const budget = createBudgetReserver({ ledger, prices, limits });
  const apiKeys = new InMemoryApiKeyStore();
  const keyGrant = createJobKeyGrant({ apiKeys, clock: clock.read });
  const usageRecords = new InMemoryUsageRecords();
  const recordCall = createJobCallRecorder({ usageRecords, clock: clock.read, observer });
  const complete = createMeteredModel({
    model,
    budget,
    keyGrant,
    ledger,
    prices,
    clock: clock.read,
    observer,
    recordCall,
    limits,
  });
  const standardRounds = createStandardRounds({ complete, limits });
  const batchRounds = createBatchRounds({
    batches,
    jobs,
    budget,
    keyGrant,
    ledger,
    prices,
    clock: clock.read,
    observer,
    recordCall,
    limits,
  });
  const summarizeDocument = createDocumentSummarizer({ limits, prices });
  const compactConversation = createConversationCompactor({
    conversations,
    summarize: summarizeDocument,
  });
  const budgetWatch = createBudgetWatch({ ledger, notices, events, clock: clock.read, limits });
  const afterSpend = async (userId: string) => {
    await Promise.all([budgetWatch.principal(userId), budgetWatch.deployment()]);
  };
  const runJob = createJobRunner({
    jobs,
    summarizeDocument,
    compactConversation,
    rounds: { standard: standardRounds, batch: batchRounds },
    events,
    afterSpend,
    clock: clock.read,
    observer,
  });
  const handleRecord = createRecordHandler({
    runJob,
    jobs,
    messages,
    events,
    afterSpend,
    clock: clock.read,
    observer,
    limits,
  });
  /** A job attempt of its own, on the standard rounds, kept in memory: for the use cases alone. */
  const newRun = (
    fields: { deadline?: JobDeadline; rounds?: RunRound; jobId?: string } = {},
  ): JobRun => testRun(fields.rounds ?? standardRounds, fields);
  return {
    model,
    batches,
    limits,
    ledger,
    usageRecords,
    prices,
    clock,
    observer,
    jobs,
    conversations,
    messages,
    events,
    notices,
    apiKeys,
    complete,
    summarizeDocument,
    compactConversation,
    runJob,
    handleRecord,
    newRun,
  };
}

/** A JobRun whose checkpoints and pending batch live in memory. */
export function testRun(
  rounds: RunRound,
  fields: { deadline?: JobDeadline; jobId?: string; userId?: string } = {},
): JobRun & { saved: Array<{ key: string; text: string }> } {
  const meter = new JobMeter();
  const checkpoints = new Map<string, KeptAnswer>();
  const saved: Array<{ key: string; text: string }> = [];
  let pendingBatch: PendingBatch | undefined;
  const ends = new AnswerEnds();
  const run: JobRun & { saved: typeof saved } = {
    userId: fields.userId ?? USER_ID,
    jobId: fields.jobId ?? JOB_ID,
    meter,
    deadline: fields.deadline ?? NO_DEADLINE,
    cancel: new AbortController().signal,
    checkpoints,
    saved,
    get pendingBatch() {
      return pendingBatch;
    },
    get usage() {
      return meter.usage;
    },
    get costNanoUsd() {
      return meter.costNanoUsd;
    },
    ends,
    round: (round) => {
      ends.newRound();
      return rounds(round, run);
    },
    async checkpoint(key, answer) {
      checkpoints.set(key, answer);
      saved.push({ key, text: answer.text });
    },
    async setPendingBatch(batch) {
      pendingBatch = batch;
    },
    async countBatch(spent) {
      if (!pendingBatch || pendingBatch.counted) return false;
      pendingBatch = { ...pendingBatch, counted: true };
      meter.add(spent.usage, spent.costNanoUsd);
      return true;
    },
  };
  return run;
}

export const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:jobs';

/**
 * A jobs-queue record as Lambda hands it to the worker, built by the local event
 * source's own translation. An object body is sent as JSON, a string as it is.
 */
export function jobRecord(
  body: unknown,
  options: {
    receiveCount?: number;
    messageId?: string;
    receiptHandle?: string;
    /** When SQS took the message (a redriven one: when it was redriven). */
    sentAtMs?: number;
    /** Its message attributes, as a copy the worker made carries them. @default the job's type */
    attributes?: QueueMessage['attributes'];
  } = {},
): SQSRecord {
  const messageId = options.messageId ?? 'msg-1';
  return toSqsRecord(
    {
      MessageId: messageId,
      ReceiptHandle: options.receiptHandle ?? `receipt-of-${messageId}`,
      Body: typeof body === 'string' ? body : JSON.stringify(body),
      // As our producers send it (SqsJobQueue): the job's type, for subscribers to filter on.
      ...(options.attributes
        ? {
            MessageAttributes: Object.fromEntries(
              Object.entries(options.attributes).map(([name, attribute]) => [
                name,
                { DataType: attribute.dataType, StringValue: attribute.stringValue },
              ]),
            ),
          }
        : typeOf(body) && {
            MessageAttributes: { type: { DataType: 'String', StringValue: typeOf(body) } },
          }),
      Attributes: {
        ApproximateReceiveCount: String(options.receiveCount ?? 1),
        SentTimestamp: String(options.sentAtMs ?? 1773478800000),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1773478800100',
      },
    },
    QUEUE_ARN,
    'eu-west-1',
  );
}

function typeOf(body: unknown): string | undefined {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

export const USER_ID = 'reader';
export const CONVERSATION_ID = `conv_${'c'.repeat(32)}`;
/** A producer's own id. */
export const JOB_ID = 'report-2026-11:summary';

/**
 * Stores a conversation turn by turn through the port, as the chat function does:
 * user message at an odd seq, its answer at the next one. A turn without `assistant`
 * is left unanswered (its lease already expired, so a later turn may follow it).
 */
export async function seedConversation(
  conversations: InMemoryConversationStore,
  /** `supersedes`: the sequence number from which this turn replaces what was said (an edit). */
  turns: Array<{ user: string; assistant?: string; supersedes?: number }>,
  ids: { userId?: string; conversationId?: string } = {},
): Promise<void> {
  const userId = ids.userId ?? USER_ID;
  const conversationId = ids.conversationId ?? CONVERSATION_ID;
  const nowMs = Date.parse('2026-03-14T08:00:00.000Z');
  for (const [i, turn] of turns.entries()) {
    const nowIso = new Date(nowMs + i * 1000).toISOString();
    const existing = await conversations.getConversation(userId, conversationId);
    const turnId = `turn-${i}`;
    const userSeq = await conversations.beginTurn({
      userId,
      conversationId,
      ...(existing && { existing }),
      turnId,
      title: 'A conversation',
      userMessage: { id: `user-${i}`, content: turn.user, tokens: estimateTokens(turn.user) },
      ...(turn.supersedes !== undefined && { supersedeFrom: turn.supersedes }),
      nowIso,
      leaseUntilMs: nowMs + i * 1000 + 500,
    });
    if (turn.assistant === undefined) continue;
    await conversations.finishTurn({
      userId,
      conversationId,
      turnId,
      userSeq,
      conversationCreatedAt: existing?.createdAt ?? nowIso,
      answer: {
        id: `answer-${i}`,
        content: turn.assistant,
        model: 'claude-haiku-4-5',
        stopReason: 'end_turn',
        usage: {
          inputTokens: 10,
          outputTokens: 10,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
        },
        usageEstimated: false,
        costNanoUsd: 60_000,
        tokens: estimateTokens(turn.assistant),
      },
      nowIso,
    });
  }
}

/** `count` answered turns: "Question i" / "Answer i". */
export function answeredTurns(count: number, from = 0) {
  return Array.from({ length: count }, (_, k) => ({
    user: `Question ${from + k}: ${'about the topic '.repeat(3).trim()}`,
    assistant: `Answer ${from + k}: ${'a helpful reply '.repeat(3).trim()}`,
  }));
}
