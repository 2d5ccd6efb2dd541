import type { Conversation } from '../../../shared/domain/conversation.js';
import {
  ConflictError,
  ModelError,
  NotFoundError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import { newConversationId, newMessageId } from '../../../shared/domain/ids.js';
import { buildPrompt } from '../../../shared/domain/prompt.js';
import { estimateTokens } from '../../../shared/domain/tokens.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import type { ModelStream } from '../../../shared/ports/model.js';
import type { ChatDependencies } from '../dependencies.js';
import { type ChatRequest, ConversationIdSchema } from '../request-schemas.js';
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
  receivedAtMs: number;
}

const TITLE_CHARS = 80;

/**
 * Everything before the first byte of the stream: validation, the conversation's
 * hold, the user's message stored, and the model's answer opened. Anything that
 * fails here is a plain HTTP error; the user's message, once stored, stays stored.
 */
export async function startTurn(
  deps: ChatDependencies,
  userId: string,
  request: ChatRequest,
  remainingTimeMs: () => number,
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
    ? await findConversation(deps, userId, request.conversationId, now())
    : undefined;
  const conversationId = existing?.id ?? newConversationId();

  const messageTokens = estimateTokens(request.message);
  const history = existing
    ? await store.recentMessages(userId, conversationId, {
        afterSeq: existing.summary?.throughSeq ?? 0,
        maxTokens:
          settings.CONTEXT_WINDOW_TOKENS - messageTokens - estimateTokens(request.system ?? ''),
      })
    : [];

  const messageId = newMessageId();
  const controller = new TurnController(remainingTimeMs() - settings.DEADLINE_MARGIN_MS);
  const userSeq = await store.beginTurn({
    userId,
    conversationId,
    ...(existing && { existing }),
    turnId: messageId,
    title: request.message.trim().slice(0, TITLE_CHARS),
    userMessage: { id: newMessageId(), content: request.message, tokens: messageTokens },
    nowIso: new Date(now()).toISOString(),
    leaseUntilMs: now() + remainingTimeMs(),
  });

  const prompt = buildPrompt({
    ...(request.system !== undefined && { system: request.system }),
    ...(existing?.summary && { summary: existing.summary.text }),
    history,
    message: request.message,
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
    return { userId, conversationId, messageId, userSeq, stream, controller, receivedAtMs };
  } catch (error) {
    controller.dispose();
    // The question stays in the history with an empty, failed answer, and the turn ends.
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
    if (error instanceof ModelError && controller.interruptedBy === 'timeout') {
      throw new ModelError('timeout', 'the model did not start answering in time', {
        cause: error,
      });
    }
    throw error;
  }
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
