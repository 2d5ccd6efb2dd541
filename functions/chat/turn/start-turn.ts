import {
  type ApiKeyGrant,
  checkKeyAllowsModel,
  keyAllowsModel,
} from '../../../shared/domain/api-key.js';
import { monthOf } from '../../../shared/domain/budget.js';
import type { Clock } from '../../../shared/domain/clock.js';
import {
  type Conversation,
  isSuperseded,
  MAX_SUPERSEDED_RANGES,
  type StoredMessage,
} from '../../../shared/domain/conversation.js';
import {
  AppError,
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { newConversationId, newMessageId } from '../../../shared/domain/ids.js';
import { allowedModel } from '../../../shared/domain/model-id.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { buildPrompt } from '../../../shared/domain/prompt.js';
import { quoted } from '../../../shared/domain/quoted.js';
import { estimateTokens, truncateText } from '../../../shared/domain/tokens.js';
import type { BeginTurn, ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { Model, ModelStream } from '../../../shared/ports/model.js';
import type { Reservation } from '../../../shared/ports/usage-ledger.js';
import type { UsageRecord, UsageRecords } from '../../../shared/ports/usage-records.js';
import { type RecoverTurn, turnHolder } from '../../../shared/turns/recover-turn.js';
import type { Admission, AdmissionRequest, Admitted } from '../../../shared/usage/admission.js';
import { findConversation } from './find-conversation.js';
import { openAnswer } from './open-answer.js';
import { promptBudget } from './prompt-budget.js';
import type { TurnCache } from './turn-cache.js';
import { TurnController } from './turn-controller.js';
import type { StartedTurn, TurnContext, TurnLimits, TurnRequest } from './turn-types.js';

const TITLE_CHARS = 80;

export type StartTurn = (request: TurnRequest, context: TurnContext) => Promise<StartedTurn>;

/**
 * Everything before the first byte of the stream: validation, admission (rate limit
 * and budget, in parallel with loading history), the conversation's hold, the user's
 * message stored, and the model's answer opened. Anything that fails here is a plain
 * HTTP error and holds nothing; the user's message, once stored, stays stored.
 */
export function createTurnStart(deps: {
  store: ConversationStore;
  model: Model;
  admission: Admission;
  recover: RecoverTurn;
  turnCache: TurnCache;
  prices: PriceTable;
  usageRecords: Pick<UsageRecords, 'record'>;
  clock: Clock;
  limits: TurnLimits;
}): StartTurn {
  const { store, admission, turnCache, clock, limits } = deps;
  return async (received, context) => {
    const request = withWellFormedText(received);
    const receivedAtMs = clock();
    const receivedAt = new Date(receivedAtMs).toISOString();
    const model = allowedModel(request.model ?? limits.defaultModel, limits.models, deps.prices);
    checkKeyAllowsModel(request.apiKey, model);
    const fallbackModel = fallbackFor(model, request.apiKey, limits.fallbackModel);
    const maxTokens = Math.min(request.maxTokens ?? limits.maxOutputTokens, limits.maxOutputTokens);
    const { userId } = request;
    const existing = request.conversationId
      ? await findConversation(deps, userId, request.conversationId)
      : undefined;
    const conversationId = existing?.id ?? request.newConversationId ?? newConversationId();
    const supersedeFrom = await supersededBy(store, request, existing);
    if (supersedeFrom !== undefined) checkRoomForReplaced(existing!);
    const skip = [
      ...(existing?.superseded ?? []),
      ...(supersedeFrom === undefined || !existing
        ? []
        : [[supersedeFrom, existing.lastSeq] as const]),
    ];
    // The hold on the conversation is short and renewed; the budget's lasts the invocation.
    const leaseUntilMs = receivedAtMs + limits.turnLeaseMs;
    // What Lambda has left is counted from now: reading the conversation may have waited
    // for a stopped turn's answer.
    const deadlineMs = clock() + context.remainingTimeMs();
    // A regenerated question is part of the history window.
    const question = request.regenerate ? '' : request.message;
    const budget = promptBudget({
      ...request,
      message: question,
      conversation: existing,
      ...limits,
    });

    // Off (no I/O) unless the cache is on and the turn starts a conversation.
    const cache = await turnCache.lookup({
      userId,
      model,
      ...(request.system !== undefined && { system: request.system }),
      message: request.message,
      maxTokens,
      ...(request.cache && { cache: request.cache }),
      startsConversation: !existing && !request.regenerate,
      nowMs: receivedAtMs,
    });
    const admissionRequest = {
      userId,
      model,
      ...(fallbackModel && { fallbackModel }),
      promptTokens: budget.promptTokens,
      promptMaxTokens: budget.promptMaxTokens,
      maxOutputTokens: maxTokens,
      nowMs: receivedAtMs,
      expiresAtMs: deadlineMs,
      holder: turnHolder(userId, conversationId),
      ...(request.apiKey && { apiKey: request.apiKey }),
    };
    // A replayed answer is free: it holds no budget.
    const planned = cache.replay ? undefined : admission.plan(admissionRequest);
    const messageId = newMessageId();
    const begin: BeginTurn = {
      userId,
      conversationId,
      ...(existing && { existing }),
      turnId: messageId,
      title: truncateText(request.message.trim(), TITLE_CHARS),
      ...(!request.regenerate && {
        userMessage: {
          id: newMessageId(),
          content: request.message,
          tokens: estimateTokens(request.message),
          ...(request.clientMessageId && { clientMessageId: request.clientMessageId }),
        },
      }),
      ...(request.clientQuestionId && { clientQuestionId: request.clientQuestionId }),
      ...(supersedeFrom !== undefined && { supersedeFrom }),
      ...(request.replaces !== undefined &&
        existing &&
        editsFirstQuestion(supersedeFrom!, existing) && { retitle: true }),
      nowIso: receivedAt,
      leaseUntilMs,
      // Deleting the conversation deletes the entry its answer is kept under (or came from).
      ...(cache.key && cache.outcome !== 'bypass' && { responseCacheKey: cache.key }),
      ...(planned && {
        hold: {
          reservation: planned,
          model,
          maxTokens,
          requestId: context.requestId,
          receivedAt,
        },
      }),
    };
    // One round trip before the model call: history, admission and the question stored at
    // once; what one of them did is undone if another fails. A new conversation's question
    // is only awaited before the answer's first byte: no other turn can take a conversation
    // not yet stored, so its model call need not wait for the write. In an existing one,
    // another turn may win the conversation, and the loser must not have called the model.
    const loading = loadHistory(store, userId, existing, budget.historyTokens, skip);
    // A replay is refused as the call would be (a budget spent or set to 0, a rate reached),
    // and then holds and counts nothing.
    const admitting = planned
      ? admit(admission, context, admissionRequest, planned)
      : refusedAsCall(admission, context, admissionRequest).then(() =>
          freeOfCharge(userId, receivedAtMs),
        );
    // Sent last, so the emulator and the network carry the model call's writes first.
    const begun = store.beginTurn(begin);
    // Its failure is handled where it is awaited, below.
    begun.catch(() => undefined);
    const abandon = () =>
      begun.then(
        () => store.abandonTurn(begin),
        () => false,
      );
    const [history, admitted] = await inConversation(
      conversationId,
      existing !== undefined,
      allOrNothing(loading, admitting, begun, {
        awaitBegun: existing !== undefined,
        undoAdmitted: (held) => held.release(),
        abandon,
      }),
    );
    // Regenerating: the last question is asked again, from the history.
    const asked = request.regenerate ? history.at(-1) : undefined;
    if (request.regenerate && asked?.role !== 'user') {
      await Promise.all([admitted.release(), abandon()]);
      throw new ConflictError('there is no answered question to regenerate in this conversation');
    }
    const prompt = {
      history: asked ? history.slice(0, -1) : history,
      message: asked ? asked.content : request.message,
    };

    // Which conversation the turn is in: one made again under its id (useChat's) is another.
    const conversationCreatedAt = existing?.createdAt ?? receivedAt;
    const controller = new TurnController(context.remainingTimeMs() - limits.deadlineMarginMs);
    controller.expectStartWithin(limits.firstByteTimeoutMs - (clock() - receivedAtMs));
    // Watched from here on, so a stop also cuts short a model that is slow to start (retries).
    // A new conversation's model call does not wait for its item to be written: until it is,
    // its absence is no delete (which stops a turn), and no stop can have named it.
    // A stop naming the question may have come before the turn was recorded, and been kept:
    // the first poll, as soon as it is recorded, looks for it too (a later stop finds the
    // turn). Not an interval later: an answer shorter than that would never look, go on
    // stopped by no one, and leave the stop kept for the next turn of its question.
    let pendingStop = request.clientQuestionId
      ? {
          clientQuestionId: request.clientQuestionId,
          receivedAtMs: context.arrivedAtMs ?? receivedAtMs,
        }
      : undefined;
    controller.watchForStop(
      () =>
        begun.then(async () => {
          const stop = await store.isStopRequested(
            userId,
            conversationId,
            messageId,
            conversationCreatedAt,
            pendingStop,
          );
          pendingStop = undefined;
          return stop;
        }),
      limits.stopPollIntervalMs,
      { atOnce: pendingStop !== undefined },
    );
    // Nor does it read a write that failed as a stop: the call is cut here instead, before
    // Claude bills an answer no one may see (a stopped call that never began costs nothing).
    begun.catch(() => controller.interrupt('stopped'));
    const heartbeatMs = limits.turnLeaseMs / 4;
    // Until when the conversation is surely this turn's: the lease of the last write that held.
    let heldUntilMs = leaseUntilMs;
    controller.every(heartbeatMs, async () => {
      const untilMs = clock() + limits.turnLeaseMs;
      // A new conversation's item may not be written yet: renewed once it is, as its absence
      // would read as another turn holding the conversation.
      const renewal = begun
        .then(() => store.renewLease(userId, conversationId, messageId, untilMs))
        // A failed heartbeat is retried at the next, while the lease lasts beyond it.
        .catch(() => undefined);
      // Heartbeats that fail without an answer (throttled) say nothing of who holds it: once
      // the lease may run out before the next, a sweep or a resume may take the conversation
      // over, and store less than this turn would go on showing. This one is its last chance:
      // unanswered within half of what the lease has left (the rest is to store the answer),
      // it stops, as one told so.
      const lastChance = clock() + heartbeatMs >= heldUntilMs;
      const held = await (lastChance
        ? answeredWithin(renewal, (heldUntilMs - clock()) / 2)
        : renewal);
      if (held) heldUntilMs = Math.max(heldUntilMs, untilMs);
      else if (held === false || lastChance) controller.interrupt('displaced');
    });
    const { observer } = context;
    const turn = {
      userId,
      conversationId,
      conversationCreatedAt,
      messageId,
      admitted,
      controller,
      observer,
      ...(request.regenerate && { regenerated: { supersededBefore: existing?.superseded ?? [] } }),
    };
    const holdsConversation = () => clock() < heldUntilMs;
    const opening = cache.replay
      ? Promise.resolve({ stream: cache.replay, model: cache.replay.model })
      : openAnswer(
          deps,
          { ...turn, stored: begun },
          {
            model,
            ...(fallbackModel && { fallbackModel }),
            maxTokens,
            ...buildPrompt({
              ...(request.system !== undefined && { system: request.system }),
              ...(existing?.summary && { summary: existing.summary.text }),
              ...prompt,
            }),
          },
        );
    const [stored, opened] = await Promise.allSettled([begun, opening]);
    if (stored.status === 'rejected') {
      await dropUnstoredAnswer(deps, controller, admitted, opened, {
        observer,
        conversationId,
        messageId,
        replayed: cache.replay !== undefined,
        record: {
          requestId: context.requestId,
          at: receivedAt,
          principal: userId,
          ...(request.apiKey && { keyId: request.apiKey.id }),
          api: 'chat',
          cacheHit: false,
        },
      });
      return inConversation(conversationId, existing !== undefined, Promise.reject(stored.reason));
    }
    const userSeq = stored.value;
    const answer = await inConversation(conversationId, true, opening);
    if (cache.replay) controller.started();
    const recorded = {
      ...begin.hold,
      // The deployment's shard was full and another took the hold.
      reservation: admitted.reservation,
      // The fallback answers: a recovery prices the answer as finishing does.
      model: answer.model,
    };
    if (planned && (recorded.reservation.shard !== planned.shard || recorded.model !== model)) {
      // Should this write fail, a recovery still settles the hold where it moved (the
      // reservation's index entry names its shard), priced as the model asked for.
      await store
        .renewLease(userId, conversationId, messageId, clock() + limits.turnLeaseMs, recorded)
        .catch(() => undefined);
    }
    observer.started();
    return {
      ...turn,
      userSeq,
      ...answer,
      receivedAtMs,
      uncompactedTokens: (existing?.uncompactedTokens ?? 0) + estimateTokens(request.message),
      summaryThroughSeq: existing?.summary?.throughSeq ?? 0,
      superseded: skip,
      holdsConversation,
      maxTokens,
      requestId: context.requestId,
      ...(request.apiKey && { apiKeyId: request.apiKey.id }),
      cache,
    };
  };
}

/**
 * The question could not be stored (another turn took the conversation meanwhile, or the
 * write failed): nothing of the answer may reach anyone. The model call is cut, and what
 * it cost by then (its input, reported as it started) is settled and reported; the rest
 * is released.
 */
async function dropUnstoredAnswer(
  deps: { prices: PriceTable; usageRecords: Pick<UsageRecords, 'record'>; clock: Clock },
  controller: TurnController,
  admitted: Admitted,
  opened: PromiseSettledResult<{ stream: ModelStream; model: string }>,
  report: {
    observer: TurnContext['observer'];
    conversationId: string;
    messageId: string;
    /** The answer came from the response cache: nothing was asked of Claude. */
    replayed: boolean;
    record: Omit<UsageRecord, 'model' | 'usage' | 'costNanoUsd' | 'latencyMs'>;
  },
): Promise<void> {
  controller.interrupt('displaced');
  await controller.dispose();
  // A failed opening has released the admission already; a replay from the cache is free.
  if (opened.status === 'rejected' || report.replayed) return;
  const { stream, model } = opened.value;
  const usage = stream.initialUsage;
  const costNanoUsd = deps.prices.costNanoUsd(model, usage);
  if (costNanoUsd === 0) {
    await admitted.release();
    return;
  }
  const { counted, ...settled } = await admitted.settle({ usage, costNanoUsd });
  if (settled.ledgerError !== undefined) {
    const { reservationId, ledgerError: error } = settled;
    report.observer.settlementFailed({ error, reservationId, costNanoUsd, usage });
  }
  const latencyMs = deps.clock() - Date.parse(report.record.at);
  await deps.usageRecords
    .record({ ...report.record, model, usage, costNanoUsd, latencyMs, stopReason: 'interrupted' })
    .catch((error: unknown) => report.observer.usageNotRecorded(error));
  // Billed, so in the spend metrics too: the daily cost alarm reads those, not the ledger.
  await report.observer
    .ended({
      conversationId: report.conversationId,
      messageId: report.messageId,
      model,
      stopReason: 'interrupted',
      usage,
      usageEstimated: true,
      costNanoUsd,
      counted,
      latencyMs,
    })
    .catch(() => undefined);
}

/** `answer`, or undefined should it not come within `ms`. */
async function answeredWithin<T>(answer: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The request with each lone UTF-16 surrogate of its texts (half an emoji, as a client that
 * cuts text by code units leaves it) made U+FFFD, as invalid UTF-8 is: `JSON.parse` takes
 * `"\ud83d"`, but the Anthropic API refuses the whole request as not valid JSON, and every
 * later turn of the conversation would send the stored question again.
 */
function withWellFormedText(request: TurnRequest): TurnRequest {
  return {
    ...request,
    message: request.message.toWellFormed(),
    ...(request.system !== undefined && { system: request.system.toWellFormed() }),
  };
}

/** The model that may answer on overload: not the one asked for, nor one the key may not use. */
function fallbackFor(
  model: string,
  key: ApiKeyGrant | undefined,
  fallbackModel: string | undefined,
): string | undefined {
  return fallbackModel && fallbackModel !== model && keyAllowsModel(key, fallbackModel)
    ? fallbackModel
    : undefined;
}

/** What a replayed turn holds: nothing, and settling it records nothing. */
function freeOfCharge(userId: string, nowMs: number): Admitted {
  const reservation: Reservation = {
    id: 'response-cache',
    userId,
    month: monthOf(nowMs),
    shard: 0,
    amountNanoUsd: 0,
    expiresAtMs: nowMs,
  };
  return {
    reservation,
    reservedNanoUsd: 0,
    rateWindows: [],
    billIfAbandoned: async () => {},
    settle: async (actual) => ({
      overrunNanoUsd: 0,
      reservationId: reservation.id,
      counted: actual,
    }),
    release: async () => {},
  };
}

/** A replay's refusals by budget or rate limit, counted as a call's. */
async function refusedAsCall(
  admission: Admission,
  context: TurnContext,
  request: AdmissionRequest,
): Promise<void> {
  try {
    await admission.check(request);
  } catch (error) {
    if (error instanceof BudgetExceededError || error instanceof RateLimitedError) {
      context.observer.rejected(error);
    }
    throw error;
  }
}

/** Rejections by budget or rate limit are counted; nothing stays held then. */
async function admit(
  admission: Admission,
  context: TurnContext,
  request: AdmissionRequest,
  planned: Reservation,
): Promise<Admitted> {
  try {
    return await admission.admit(request, planned);
  } catch (error) {
    if (error instanceof BudgetExceededError || error instanceof RateLimitedError) {
      context.observer.rejected(error);
    }
    throw error;
  }
}

async function loadHistory(
  store: ConversationStore,
  userId: string,
  existing: Conversation | undefined,
  maxTokens: number,
  skip: ReadonlyArray<readonly [number, number]>,
): Promise<StoredMessage[]> {
  if (!existing) return [];
  // Read while this turn's question is being stored: the query must neither see it nor
  // count it against the window.
  const { items } = await store.recentMessages(userId, existing.id, {
    afterSeq: existing.summary?.throughSeq ?? 0,
    throughSeq: existing.lastSeq,
    maxTokens,
    skip,
  });
  return items;
}

/**
 * Where a regenerate or an edit starts superseding: the answer given again (the last one
 * unless named, or the one after a named question), or the question replaced. Only what
 * has not been compacted into the summary can be replaced.
 */
async function supersededBy(
  store: ConversationStore,
  request: TurnRequest,
  existing: Conversation | undefined,
): Promise<number | undefined> {
  if (!request.regenerate && request.replaces === undefined) return undefined;
  if (!existing) {
    throw new ValidationError(
      'regenerating or editing needs the conversationId of the conversation',
    );
  }
  if (request.regenerate && request.regenerates === undefined) return lastShownSeq(existing);
  const id = (request.regenerate ? request.regenerates : request.replaces)!;
  // Only the messages after the summary are read (and its last, a question whose answer
  // may be given again): looked through, a long conversation's whole history would be
  // megabytes read for each request naming an id it does not have. A compaction ends its
  // summary at a message not replaced, so an edit's replacement is on the same side of it
  // as the question edited.
  const summarizedThrough = existing.summary?.throughSeq ?? 0;
  const found = await store.findMessage(
    existing.userId,
    existing.id,
    id,
    Math.max(1, summarizedThrough),
  );
  if (!found && summarizedThrough > 0) {
    throw new ConflictError(
      `no message ${quoted(id)} after this conversation's summary: one summarized already (compacted) can no longer be replaced`,
    );
  }
  const named = found?.role === 'user' ? await editedAs(store, existing, found) : found;
  if (
    !named ||
    isSuperseded(named.seq, existing.superseded) ||
    (!request.regenerate && named.role !== 'user')
  ) {
    const what = request.regenerate ? 'message' : 'question';
    throw new NotFoundError(
      `no ${what} ${quoted(id)} to ${request.regenerate ? 'answer again' : 'replace'} in this conversation`,
    );
  }
  // Regenerating after a question: its answer, and everything after, is given again.
  const from = request.regenerate && named.role === 'user' ? named.seq + 1 : named.seq;
  if (from <= summarizedThrough) {
    throw new ConflictError(
      'this message is summarized already (compacted); it can no longer be replaced',
    );
  }
  // A question with nothing after it is answered with nothing superseded.
  return from > existing.lastSeq ? undefined : from;
}

/**
 * The conversation's last message not replaced: its last answer, which a regenerate gives again.
 * Not always its last: a regenerate that showed nothing is replaced by the answer it gave back.
 */
function lastShownSeq(existing: Conversation): number {
  let seq = existing.lastSeq;
  while (seq > 1 && isSuperseded(seq, existing.superseded)) seq--;
  return seq;
}

/** A conversation keeps so many replaced ranges; past them its item (400 KB) would be full. */
function checkRoomForReplaced(existing: Conversation): void {
  if ((existing.superseded?.length ?? 0) < MAX_SUPERSEDED_RANGES) return;
  throw new ValidationError(
    `this conversation has had answers given again or questions edited ${MAX_SUPERSEDED_RANGES} times, the most one conversation keeps: ask on, or start a new conversation`,
  );
}

/**
 * The question as it reads now: an edited one was replaced by the question its edit asked
 * (stored right after what the edit superseded), maybe edited again. useChat keeps a
 * question's id through an edit, so a second edit names the first one's.
 */
async function editedAs(
  store: ConversationStore,
  existing: Conversation,
  question: StoredMessage,
): Promise<StoredMessage> {
  let seq = question.seq;
  for (;;) {
    const replaced = existing.superseded?.find(([from]) => from === seq);
    if (!replaced) break;
    seq = replaced[1] + 1;
  }
  if (seq === question.seq) return question;
  const now = await store.message(existing.userId, existing.id, seq);
  return now?.role === 'user' ? now : question;
}

/** Whether an edit from `seq` replaces the conversation's first question: all before it is replaced already. */
function editsFirstQuestion(seq: number, existing: Conversation): boolean {
  for (let before = 1; before < seq; before++) {
    if (!isSuperseded(before, existing.superseded)) return false;
  }
  return true;
}

/** A failure after the question was stored names its conversation, so a retry continues it. */
async function inConversation<T>(conversationId: string, kept: boolean, work: Promise<T>) {
  try {
    return await work;
  } catch (error) {
    if (kept && error instanceof AppError) error.conversationId = conversationId;
    throw error;
  }
}

/**
 * History, admission and, with `awaitBegun`, the question's write: all or none. When one
 * fails, what the others did is undone, the question's write once it lands.
 */
async function allOrNothing<History>(
  history: Promise<History>,
  admitted: Promise<Admitted>,
  begun: Promise<number>,
  options: {
    awaitBegun: boolean;
    undoAdmitted: (held: Admitted) => Promise<void>;
    abandon: () => Promise<unknown>;
  },
): Promise<[History, Admitted]> {
  const [h, a, awaited] = await Promise.allSettled([
    history,
    admitted,
    options.awaitBegun ? begun : undefined,
  ]);
  if (h.status === 'fulfilled' && a.status === 'fulfilled' && awaited.status === 'fulfilled') {
    return [h.value, a.value];
  }
  const [b] = options.awaitBegun ? [awaited] : await Promise.allSettled([begun]);
  await Promise.all([
    a.status === 'fulfilled' && options.undoAdmitted(a.value),
    b.status === 'fulfilled' && options.abandon(),
  ]);
  // The refusal the caller can act on first: budget or rate, then a conflict, then the rest.
  const failed = [a, b, h].find((outcome) => outcome.status === 'rejected');
  throw (failed as PromiseRejectedResult).reason;
}
