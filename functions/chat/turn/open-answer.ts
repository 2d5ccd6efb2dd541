import type { Clock } from '../../../shared/domain/clock.js';
import { ModelError } from '../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type {
  Model,
  ModelStream,
  PromptBlock,
  PromptMessage,
} from '../../../shared/ports/model.js';
import { givenBack, type Regenerated } from '../../../shared/turns/given-back.js';
import type { Admitted } from '../../../shared/usage/admission.js';
import { openWithFallback } from './open-with-fallback.js';
import { type Prompt, promptWithin } from './prompt-within.js';
import type { TurnController } from './turn-controller.js';
import type { TurnLimits, TurnObserver } from './turn-types.js';

interface HeldTurn {
  userId: string;
  conversationId: string;
  conversationCreatedAt: string;
  messageId: string;
  /** The question's write, under way: its sequence number once stored. */
  stored: Promise<number>;
  admitted: Admitted;
  controller: TurnController;
  observer: TurnObserver;
  regenerated?: Regenerated;
}

interface AnswerRequest {
  model: string;
  /** Asked once if `model` stays overloaded. */
  fallbackModel?: string;
  maxTokens: number;
  system: PromptBlock[];
  messages: PromptMessage[];
}

/**
 * Opens the model's answer. A prompt the model finds too long for it is asked once more
 * without its oldest history (see `promptWithin`): the conversation is the server's, so
 * its caller could not shorten it. A turn stopped before the model began still streams,
 * and ends as `stopped`. Any other failure ends the turn here: the question stays in the
 * history with an empty, failed answer, the hold is released, and the error is thrown
 * for the caller to answer as plain HTTP.
 */
export async function openAnswer(
  deps: { model: Model; store: ConversationStore; clock: Clock; limits: TurnLimits },
  turn: HeldTurn,
  request: AnswerRequest,
): Promise<{ stream: ModelStream; model: string }> {
  const { controller } = turn;
  const { fallbackModel, system, messages, ...modelRequest } = request;
  const open = (prompt: Prompt) =>
    openWithFallback(
      deps.model,
      {
        ...modelRequest,
        ...prompt,
        signal: controller.signal,
        timeoutMs: deps.limits.modelTimeoutMs,
        maxRetries: deps.limits.modelMaxRetries,
      },
      fallbackModel,
    );
  try {
    const opened = await open({ system, messages }).catch((error: unknown) => {
      const overflow = error instanceof ModelError ? error.contextOverflow : undefined;
      const shorter =
        overflow && !controller.signal.aborted
          ? promptWithin({ system, messages }, overflow, request.maxTokens)
          : undefined;
      if (!overflow || !shorter) throw error;
      const messagesLeftOut = messages.length - shorter.messages.length;
      turn.observer.promptShortened({ messagesLeftOut, ...overflow });
      return open(shorter);
    });
    controller.started();
    return opened;
  } catch (error) {
    if (controller.interruptedBy === 'stopped') {
      return { stream: notStartedStream(request.model), model: request.model };
    }
    await controller.dispose();
    const failure =
      controller.interruptedBy === 'timeout' || controller.interruptedBy === 'slow-start'
        ? new ModelError('timeout', 'the model did not start answering in time', { cause: error })
        : error;
    try {
      // A question that could not be stored has no turn to end (the caller says why).
      const userSeq = await turn.stored.catch(() => undefined);
      if (userSeq !== undefined) {
        await recordFailedStart(deps, turn, { userSeq, model: request.model, failure });
      }
    } catch (storeError) {
      turn.observer.answerNotStored(storeError);
    } finally {
      await turn.admitted.release();
    }
    turn.observer.failedToStart(failure);
    throw failure;
  }
}

/**
 * The question stays in the history, with an empty failed answer that keeps the failure as
 * the caller is told it (any other error is answered as a 500 whose words are not the caller's).
 */
async function recordFailedStart(
  deps: { store: ConversationStore; clock: Clock },
  turn: HeldTurn,
  answer: { userSeq: number; model: string; failure: unknown },
): Promise<void> {
  const { userSeq, model, failure } = answer;
  const superseded = givenBack(turn, { seq: userSeq + 1, text: '', stopReason: 'error' });
  await deps.store.finishTurn({
    userId: turn.userId,
    conversationId: turn.conversationId,
    turnId: turn.messageId,
    userSeq,
    conversationCreatedAt: turn.conversationCreatedAt,
    answer: {
      id: turn.messageId,
      content: '',
      model,
      stopReason: 'error',
      usage: ZERO_USAGE,
      usageEstimated: false,
      costNanoUsd: 0,
      tokens: 0,
      ...(failure instanceof ModelError && {
        failure: { kind: failure.kind, message: failure.message },
      }),
    },
    ...(superseded && { superseded }),
    nowIso: new Date(deps.clock()).toISOString(),
  });
}

/** The answer of a turn stopped before the model began: nothing. */
function notStartedStream(model: string): ModelStream {
  return {
    model,
    initialUsage: ZERO_USAGE,
    async *[Symbol.asyncIterator]() {},
  };
}
