import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Conversation, StoredMessage } from '../../../shared/domain/conversation.js';
import {
  ConflictError,
  ModelError,
  NotFoundError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { newConversationId, newMessageId } from '../../../shared/domain/ids.js';
import { buildPrompt } from '../../../shared/domain/prompt.js';
import { estimateTokens, maxTokensOf } from '../../../shared/domain/tokens.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import type { ModelStream } from '../../../shared/ports/model.js';
import type { ChatDependencies } from '../dependencies.js';
import { type ChatRequest, ConversationIdSchema } from '../request-schemas.js';
import { type Admission, admitTurn } from './admit-turn.js';
import { openWithFallback } from './open-with-fallback.js';
import { TurnController } from './turn-controller.js';

export interface StartedTurn {
  userId: string;
  conversationId: string;
  /** The answer's id; also the turn's id. */
  messageId: string;
  userSeq: number;
  stream: ModelStream;
  controller: TurnController;
  admission: Admission;
  receivedAtMs: number;
  /** Estimated tokens of the conversation not yet compacted, this turn's question included. */
  uncompactedTokens: number;
  /** The last message the conversation's summary covers (0: no summary yet). */
  summaryThroughSeq: number;
}

const TITLE_CHARS = 80;
const DEFAULT_STOP_POLL_MS = 250;
/** Bytes per estimated token: estimates are ceil(bytes / 4), so bytes <= 4 x estimate. */
const MAX_BYTES_PER_ESTIMATED_TOKEN = 4;

/**
 * Everything before the first byte of the stream: validation, admission (rate limit
 * and budget, in parallel with loading history), the conversation's hold, the user's
 * message stored, and the model's answer opened. Anything that fails here is a plain
 * HTTP error and holds nothing; the user's message, once stored, stays stored.
 */
export async function startTurn(
  deps: ChatDependencies,
  userId: string,
  request: ChatRequest,
  remainingTimeMs: () => number,
  metrics: Metrics,
): Promise<StartedTurn> {
  const { settings, store } = deps;
  const now = deps.clock ?? Date.now;
  const receivedAtMs = now();
  const model = request.model ?? settings.DEFAULT_MODEL;
  if (!settings.allowedModels.has(model)) {
    throw new ValidationError(
      `model ${JSON.stringify(model)} is not allowed; use one of: ${[...settings.allowedModels].join(', ')}`,
    );
  }
  const maxTokens = Math.min(
    request.maxTokens ?? settings.MAX_OUTPUT_TOKENS,
    settings.MAX_OUTPUT_TOKENS,
  );

  const existing = request.conversationId
    ? await findConversation(deps, userId, request.conversationId, receivedAtMs)
    : undefined;
  const conversationId = existing?.id ?? newConversationId();
  const leaseUntilMs = receivedAtMs + remainingTimeMs();

  const fixedTexts = [request.message, request.system ?? '', existing?.summary?.text ?? ''];
  const fixedTokens = fixedTexts.reduce((sum, text) => sum + estimateTokens(text), 0);
  const historyTokens = Math.max(0, settings.CONTEXT_WINDOW_TOKENS - fixedTokens);
  const historyBound = Math.min(existing?.uncompactedTokens ?? 0, historyTokens);
  const [history, admission] = await settleTogether(
    existing
      ? store.recentMessages(userId, conversationId, {
          afterSeq: existing.summary?.throughSeq ?? 0,
          maxTokens: historyTokens,
        })
      : Promise.resolve<StoredMessage[]>([]),
    admitTurn(
      deps,
      {
        userId,
        model,
        promptTokens: fixedTokens + historyBound,
        promptMaxTokens:
          maxTokensOf(fixedTexts) +
          MAX_BYTES_PER_ESTIMATED_TOKEN * historyBound +
          8 * (existing?.messageCount ?? 0),
        maxOutputTokens: maxTokens,
        nowMs: receivedAtMs,
        expiresAtMs: leaseUntilMs,
      },
      metrics,
    ),
    (admitted) => releaseAdmission(deps, admitted),
  );

  const messageId = newMessageId();
  let userSeq: number;
  try {
    userSeq = await store.beginTurn({
      userId,
      conversationId,
      ...(existing && { existing }),
      turnId: messageId,
      title: request.message.trim().slice(0, TITLE_CHARS),
      userMessage: {
        id: newMessageId(),
        content: request.message,
        tokens: estimateTokens(request.message),
      },
      nowIso: new Date(now()).toISOString(),
      leaseUntilMs,
    });
  } catch (error) {
    await releaseAdmission(deps, admission);
    throw error;
  }

  const controller = new TurnController(remainingTimeMs() - settings.DEADLINE_MARGIN_MS);
  // Watched from here on, so a stop also cuts short a model that is slow to start (retries).
  controller.watchForStop(
    () => store.isStopRequested(userId, conversationId, messageId),
    deps.stopPollIntervalMs ?? DEFAULT_STOP_POLL_MS,
  );
  const prompt = buildPrompt({
    ...(request.system !== undefined && { system: request.system }),
    ...(existing?.summary && { summary: existing.summary.text }),
    history,
    message: request.message,
  });
  const started = (stream: ModelStream): StartedTurn => ({
    userId,
    conversationId,
    messageId,
    userSeq,
    stream,
    controller,
    admission,
    receivedAtMs,
    uncompactedTokens: (existing?.uncompactedTokens ?? 0) + estimateTokens(request.message),
    summaryThroughSeq: existing?.summary?.throughSeq ?? 0,
  });
  try {
    const stream = await openWithFallback(
      deps.model,
      {
        model,
        ...prompt,
        maxTokens,
        signal: controller.signal,
        timeoutMs: settings.MODEL_TIMEOUT_MS,
        maxRetries: settings.MODEL_MAX_RETRIES,
      },
      settings.FALLBACK_MODEL,
    );
    return started(stream);
  } catch (error) {
    // Stopped before the model began: the stream still opens and ends with done, `stopped`.
    if (controller.interruptedBy === 'stopped') return started(notStartedStream(model));
    controller.dispose();
    // The question stays in the history with an empty, failed answer; the turn ends.
    await store.finishTurn({
      userId,
      conversationId,
      turnId: messageId,
      userSeq,
      answer: {
        id: messageId,
        content: '',
        model,
        stopReason: 'error',
        usage: ZERO_USAGE,
        usageEstimated: false,
        costNanoUsd: 0,
        tokens: 0,
      },
      nowIso: new Date(now()).toISOString(),
    });
    await releaseAdmission(deps, admission);
    if (controller.interruptedBy === 'timeout') {
      throw new ModelError('timeout', 'the model did not start answering in time', {
        cause: error,
      });
    }
    throw error;
  }
}

async function releaseAdmission(deps: ChatDependencies, admission: Admission): Promise<void> {
  await Promise.all([
    deps.ledger.release(admission.reservation),
    deps.rateLimiter.adjust(admission.rateWindow, -admission.admittedTokens),
  ]);
}

/** Both, or neither: when one fails, what the other took is given back. */
async function settleTogether<A, B>(
  first: Promise<A>,
  second: Promise<B>,
  undoSecond: (value: B) => Promise<void>,
): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value];
  if (b.status === 'fulfilled') await undoSecond(b.value);
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
}

async function findConversation(
  deps: ChatDependencies,
  userId: string,
  conversationId: string,
  nowMs: number,
): Promise<Conversation> {
  const conversation = ConversationIdSchema.safeParse(conversationId).success
    ? await deps.store.getConversation(userId, conversationId)
    : undefined;
  if (!conversation) {
    throw new NotFoundError(`conversation ${JSON.stringify(conversationId)} does not exist`);
  }
  // Fail fast on the common race; beginTurn's condition is what guarantees it.
  if (conversation.activeTurn && conversation.activeTurn.leaseUntilMs >= nowMs) {
    throw new ConflictError('another turn is in progress in this conversation; retry when it ends');
  }
  return conversation;
}

/** The answer of a turn stopped before the model began: nothing. */
function notStartedStream(model: string): ModelStream {
  return {
    model,
    initialUsage: ZERO_USAGE,
    async *[Symbol.asyncIterator]() {},
  };
}
