import { checkKeyAllowsModel } from '../../../shared/domain/api-key.js';
import type { Clock } from '../../../shared/domain/clock.js';
import type { Conversation, StoredMessage } from '../../../shared/domain/conversation.js';
import {
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { isConversationId, newConversationId, newMessageId } from '../../../shared/domain/ids.js';
import { buildPrompt } from '../../../shared/domain/prompt.js';
import { estimateTokens, truncateText } from '../../../shared/domain/tokens.js';
import type { BeginTurn, ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { Model } from '../../../shared/ports/model.js';
import { type RecoverTurn, turnHolder } from '../../../shared/turns/recover-turn.js';
import type { Admission, AdmissionRequest, Admitted } from '../../../shared/usage/admission.js';
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
  clock: Clock;
  limits: TurnLimits;
}): StartTurn {
  const { store, admission, turnCache, clock, limits } = deps;
  return async (request, context) => {
    const receivedAtMs = clock();
    const model = allowedModel(request.model ?? limits.defaultModel, limits.models);
    checkKeyAllowsModel(request.apiKey, model);
    const maxTokens = Math.min(request.maxTokens ?? limits.maxOutputTokens, limits.maxOutputTokens);
    const { userId } = request;
    const existing = request.conversationId
      ? await findConversation(deps, userId, request.conversationId, receivedAtMs)
      : undefined;
    const conversationId = existing?.id ?? newConversationId();
    // The hold on the conversation is short and renewed; the budget's lasts the invocation.
    const leaseUntilMs = receivedAtMs + limits.turnLeaseMs;
    const deadlineMs = receivedAtMs + context.remainingTimeMs();
    const budget = promptBudget({ ...request, conversation: existing, ...limits });

    const cached = turnCache.lookup({
      userId,
      model,
      ...(request.system !== undefined && { system: request.system }),
      message: request.message,
      maxTokens,
      ...(request.cache && { cache: request.cache }),
      startsConversation: !existing,
      nowMs: receivedAtMs,
    });
    const [history, held] = await bothOrNeither(
      loadHistory(store, userId, existing, budget.historyTokens),
      admit(admission, context, {
        userId,
        model,
        promptTokens: budget.promptTokens,
        promptMaxTokens: budget.promptMaxTokens,
        maxOutputTokens: maxTokens,
        nowMs: receivedAtMs,
        expiresAtMs: deadlineMs,
        holder: turnHolder(userId, conversationId),
        ...(request.apiKey && { apiKey: request.apiKey }),
      }),
      (admitted) => admitted.release(),
    );
    const cache = await cached;
    // A replayed answer is free: what was held for a model call is given back.
    if (cache.replay) await held.release();
    const admitted = cache.replay ? freeOfCharge(held) : held;
    const messageId = newMessageId();
    const userSeq = await storeQuestion(store, admitted, {
      userId,
      conversationId,
      ...(existing && { existing }),
      turnId: messageId,
      title: truncateText(request.message.trim(), TITLE_CHARS),
      userMessage: {
        id: newMessageId(),
        content: request.message,
        tokens: estimateTokens(request.message),
      },
      nowIso: new Date(clock()).toISOString(),
      leaseUntilMs,
      ...(!cache.replay && { hold: { reservation: admitted.reservation, model } }),
    });

    const controller = new TurnController(context.remainingTimeMs() - limits.deadlineMarginMs);
    controller.expectStartWithin(limits.firstByteTimeoutMs - (clock() - receivedAtMs));
    // Watched from here on, so a stop also cuts short a model that is slow to start (retries).
    controller.watchForStop(
      () => store.isStopRequested(userId, conversationId, messageId),
      limits.stopPollIntervalMs,
    );
    controller.every(limits.turnLeaseMs / 4, () =>
      store
        .renewLease(userId, conversationId, messageId, clock() + limits.turnLeaseMs)
        .then((held) => held || controller.interrupt('displaced'))
        // A failed heartbeat is retried at the next; the lease outlasts three of them.
        .catch(() => undefined),
    );
    const { observer } = context;
    const turn = { userId, conversationId, messageId, userSeq, admitted, controller, observer };
    const answer = cache.replay
      ? { stream: cache.replay, model }
      : await openAnswer(deps, turn, {
          model,
          maxTokens,
          ...buildPrompt({
            ...(request.system !== undefined && { system: request.system }),
            ...(existing?.summary && { summary: existing.summary.text }),
            history,
            message: request.message,
          }),
        });
    if (cache.replay) controller.started();
    observer.started();
    return {
      ...turn,
      ...answer,
      receivedAtMs,
      uncompactedTokens: (existing?.uncompactedTokens ?? 0) + estimateTokens(request.message),
      summaryThroughSeq: existing?.summary?.throughSeq ?? 0,
      requestId: context.requestId,
      ...(request.apiKey && { apiKeyId: request.apiKey.id }),
      cache,
    };
  };
}

/** What a replayed turn holds: nothing, and settling it records nothing. */
function freeOfCharge(admitted: Admitted): Admitted {
  const reservation = { ...admitted.reservation, amountNanoUsd: 0 };
  return {
    reservation,
    reservedNanoUsd: 0,
    rateWindows: [],
    settle: async () => ({ overrunNanoUsd: 0, reservationId: reservation.id }),
    release: async () => {},
  };
}

/** Stores the question and takes the conversation; nothing stays held if that fails. */
async function storeQuestion(
  store: ConversationStore,
  admitted: Admitted,
  turn: BeginTurn,
): Promise<number> {
  try {
    return await store.beginTurn(turn);
  } catch (error) {
    await admitted.release();
    throw error;
  }
}

/** Rejections by budget or rate limit are counted; nothing stays held then. */
async function admit(
  admission: Admission,
  context: TurnContext,
  request: AdmissionRequest,
): Promise<Admitted> {
  try {
    return await admission.admit(request);
  } catch (error) {
    if (error instanceof BudgetExceededError || error instanceof RateLimitedError) {
      context.observer.rejected(error);
    }
    throw error;
  }
}

function allowedModel(model: string, models: ReadonlySet<string>): string {
  if (models.has(model)) return model;
  throw new ValidationError(
    `model ${JSON.stringify(model)} is not allowed; use one of: ${[...models].join(', ')}`,
  );
}

async function findConversation(
  deps: { store: ConversationStore; recover: RecoverTurn },
  userId: string,
  conversationId: string,
  nowMs: number,
): Promise<Conversation> {
  const read = () =>
    isConversationId(conversationId)
      ? deps.store.getConversation(userId, conversationId)
      : Promise.resolve(undefined);
  let conversation = await read();
  if (!conversation) {
    throw new NotFoundError(`conversation ${JSON.stringify(conversationId)} does not exist`);
  }
  // Fail fast on the common race; beginTurn's condition is what guarantees it.
  if (conversation.activeTurn && conversation.activeTurn.leaseUntilMs >= nowMs) {
    throw new ConflictError('another turn is in progress in this conversation; retry when it ends');
  }
  if (conversation.activeTurn) {
    // Its function died: keep what it streamed and settle its hold before taking over.
    await deps.recover(userId, conversationId);
    conversation = (await read()) ?? conversation;
  }
  return conversation;
}

async function loadHistory(
  store: ConversationStore,
  userId: string,
  existing: Conversation | undefined,
  maxTokens: number,
): Promise<StoredMessage[]> {
  if (!existing) return [];
  return store.recentMessages(userId, existing.id, {
    afterSeq: existing.summary?.throughSeq ?? 0,
    maxTokens,
  });
}

/** Both, or neither: when one fails, what the other took is given back. */
async function bothOrNeither<A>(
  first: Promise<A>,
  second: Promise<Admitted>,
  undoSecond: (value: Admitted) => Promise<void>,
): Promise<[A, Admitted]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value];
  if (b.status === 'fulfilled') await undoSecond(b.value);
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
}
