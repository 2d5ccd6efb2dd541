import type { Clock } from '../../../shared/domain/clock.js';
import { ModelError } from '../../../shared/domain/errors.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { Model } from '../../../shared/ports/model.js';
import type { UsageRecords } from '../../../shared/ports/usage-records.js';
import type { RecoverTurn } from '../../../shared/turns/recover-turn.js';
import type { Admission } from '../../../shared/usage/admission.js';
import type { CacheOutcome } from '../messages/messages-types.js';
import { AnswerPieces } from './answer-pieces.js';
import { collectAnswer } from './collect-answer.js';
import type { CompactionRequests } from './compaction-requests.js';
import { createTurnFinish } from './finish-turn.js';
import { createTurnStart } from './start-turn.js';
import type { TurnCache } from './turn-cache.js';
import type { TurnContext, TurnEvent, TurnLimits, TurnRequest } from './turn-types.js';

/** A turn whose answer has begun: run it to stream the answer's events. */
export interface LiveTurn {
  conversationId: string;
  messageId: string;
  model: string;
  /** Whether the answer is replayed from the response cache. */
  cache: CacheOutcome;
  /**
   * Streams the answer to its end, whether or not anyone still reads (on AWS a client
   * disconnect never reaches the function): `start`, `text`…, then `done` or `error`.
   * The answer is stored before the last event. Never rejects.
   */
  run(emit: (event: TurnEvent) => void): Promise<void>;
}

export interface ChatTurn {
  /**
   * Admits the turn, stores the question and opens the model's answer.
   * @throws ValidationError, NotFoundError, ConflictError, BudgetExceededError,
   *   RateLimitedError or ModelError: nothing is held then
   */
  start(request: TurnRequest, context: TurnContext): Promise<LiveTurn>;
}

export interface ChatTurnDependencies {
  store: ConversationStore;
  model: Model;
  admission: Admission;
  recover: RecoverTurn;
  prices: PriceTable;
  compaction: CompactionRequests;
  turnCache: TurnCache;
  usageRecords: UsageRecords;
  clock: Clock;
  limits: TurnLimits;
}

/** One chat turn: a question in, a streamed answer out, both kept in the conversation. */
export function createChatTurn(deps: ChatTurnDependencies): ChatTurn {
  const startTurn = createTurnStart(deps);
  const finishTurn = createTurnFinish(deps);
  const collectOptions = { idleTimeoutMs: deps.limits.streamIdleTimeoutMs, clock: deps.clock };
  return {
    async start(request, context) {
      const turn = await startTurn(request, context);
      const { conversationId, messageId } = turn;
      return {
        conversationId,
        messageId,
        model: turn.model,
        cache: turn.cache.outcome,
        async run(emit) {
          const pieces = new AnswerPieces(
            (piece) =>
              deps.store.saveAnswerPiece({
                userId: turn.userId,
                conversationId,
                turnId: messageId,
                answerSeq: turn.userSeq + 1,
                ...piece,
                nowMs: deps.clock(),
              }),
            (error) => turn.observer.pieceNotSaved(error),
            deps.limits.answerPieceIntervalMs,
          );
          try {
            emit({ type: 'start', conversationId, messageId, model: turn.model });
            pieces.begin(turn.stream.initialUsage);
            const answer = await collectAnswer(turn, collectOptions, (text) => {
              pieces.add(text);
              emit({ type: 'text', text });
            });
            await pieces.end();
            emit(await finishTurn(turn, answer, () => pieces.saveRest()));
          } catch (error) {
            emit({
              type: 'error',
              error: new ModelError('api_error', 'the turn failed unexpectedly', { cause: error }),
            });
          } finally {
            // Awaited: on AWS a save still under way when the invocation ends is frozen with
            // it, and a turn that failed here is recovered from its pieces.
            await pieces.end();
            await turn.controller.dispose();
          }
        },
      };
    },
  };
}
