import type { ApiKeyGrant } from '../../../shared/domain/api-key.js';
import type { Clock } from '../../../shared/domain/clock.js';
import type { Conversation, StoredMessage } from '../../../shared/domain/conversation.js';
import { ModelError, NotFoundError } from '../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { RecoverTurn } from '../../../shared/turns/recover-turn.js';
import type { Admission } from '../../../shared/usage/admission.js';
import type { TurnEvent } from './turn-types.js';

/** How much of which answer a follower has. */
export interface StreamPosition {
  /** The answer it was reading; without it, whichever is streaming. */
  messageId?: string;
  /** Text it has already, in UTF-16 code units of that answer. */
  offset: number;
  /** It has that answer's end too (`done` or `error`). */
  ended?: boolean;
}

/** A turn being followed: its events from where the follower left off. */
export interface FollowedTurn {
  conversationId: string;
  messageId: string;
  /** Where `events` start: the follower's offset, or 0 when its answer has ended. */
  fromOffset: number;
  /** `start`, the text after `fromOffset` as it arrives, then `done` or `error`. */
  events: AsyncIterable<TurnEvent>;
}

export type FollowTurn = (request: {
  userId: string;
  /** The API key the caller came with: its rate windows count the stream too. */
  apiKey?: ApiKeyGrant;
  conversationId: string;
  after: StreamPosition;
  /** Milliseconds before the function is stopped. */
  remainingTimeMs: () => number;
}) => Promise<FollowedTurn | undefined>;

/**
 * Resumes the answer streaming in a conversation for a client that lost it (a dropped
 * connection, a reload): what was said already, from the pieces the turn saves as it
 * streams, then the rest as it is saved, then the stored answer's end. No connection to
 * the turn's own function is needed, so it works after any disconnect, from anywhere.
 * A client whose answer ended meanwhile, with nothing streaming now, gets the rest of that
 * answer and its end, from the stored answer (nothing once it has the end).
 * @returns undefined when no turn is streaming and the client has all of the conversation's
 *   last answer, its end included, or names none of it
 * Following a live turn counts as a request in the caller's rate windows: each follower
 * holds a function (and polls the table) for as long as the answer streams, so followers
 * opened without bound would take the concurrency every other caller shares.
 * @throws NotFoundError for a conversation that is not the caller's
 * @throws RateLimitedError when the caller's rate windows are full
 */
export function createTurnFollower(deps: {
  store: ConversationStore;
  recover: RecoverTurn;
  admission: Pick<Admission, 'countFreeRequest'>;
  clock: Clock;
  limits: { pollIntervalMs: number; deadlineMarginMs: number };
}): FollowTurn {
  const { store, recover, admission, clock, limits } = deps;
  return async ({ userId, apiKey, conversationId, after, remainingTimeMs }) => {
    const conversation = await store.getConversation(userId, conversationId);
    if (!conversation) throw new NotFoundError(`conversation ${conversationId} does not exist`);
    const active = conversation.activeTurn;
    if (!active) {
      return after.messageId && !after.ended ? endOfAnswer(userId, conversation, after) : undefined;
    }
    const turnId = active.turnId;
    const { createdAt } = conversation;
    // Its end was sent before the turn let go of the conversation: nothing is left to send.
    if (after.ended && after.messageId === turnId) return undefined;
    await admission.countFreeRequest({ userId, ...(apiKey && { apiKey }), nowMs: clock() });
    // A follower whose answer ended has none of this one, which may be longer already.
    const fromOffset = after.messageId && after.messageId !== turnId ? 0 : after.offset;
    // The turn's answer takes the slot after its question: the last one taken.
    const answerSeq = conversation.lastSeq;
    const deadlineMs = clock() + remainingTimeMs() - limits.deadlineMarginMs;

    async function* events(): AsyncGenerator<TurnEvent> {
      yield {
        type: 'start',
        conversationId,
        messageId: turnId,
        model: active?.hold?.model ?? 'unknown',
      };
      try {
        yield* follow();
      } catch (error) {
        // Ended as a turn's own stream ends on a failure; the error goes on to be logged.
        yield {
          type: 'error',
          error: new ModelError('api_error', 'the answer could not be followed: resume again', {
            cause: error,
          }),
          answerGoesOn: true,
        };
        throw error;
      }
    }

    async function* follow(): AsyncGenerator<TurnEvent> {
      let sent = fromOffset;
      // The answer as its pieces read so far, and where the last of them starts: each poll
      // reads on from it, not the whole answer again (a long answer's hundreds of pieces).
      let text = '';
      let lastPieceOffset = 0;
      for (;;) {
        const now = await store.getConversation(userId, conversationId);
        const live = now?.activeTurn?.turnId === turnId;
        if (live && now?.activeTurn && now.activeTurn.leaseUntilMs < clock()) {
          // Its function died: end it as interrupted, then report that like any end. One
          // that cannot be ended (its answer is stored already) is waited on like a live one.
          if ((await recover(userId, conversationId)) === 'recovered') continue;
        }
        if (!live) {
          const stored = await store.message(userId, conversationId, answerSeq);
          // A conversation deleted and made again under its id (useChat's) has its own
          // answers in the same slots: another one there is not this turn's.
          const answer = stored?.id === turnId ? stored : undefined;
          if (answer && answer.content.length > sent) {
            yield { type: 'text', text: answer.content.slice(sent) };
          }
          const sameConversation = now?.createdAt === createdAt;
          yield answer ? endOf(answer) : sameConversation ? WITHDRAWN : DELETED;
          return;
        }
        const pieces = await store.answerPieces(userId, conversationId, answerSeq, lastPieceOffset);
        for (const piece of pieces) text = text.slice(0, piece.offset) + piece.text;
        lastPieceOffset = pieces.at(-1)?.offset ?? lastPieceOffset;
        if (text.length > sent) {
          yield { type: 'text', text: text.slice(sent) };
          sent = text.length;
        }
        if (clock() >= deadlineMs) {
          yield {
            type: 'error',
            error: new ModelError('timeout', 'still streaming: resume again to follow it'),
            answerGoesOn: true,
          };
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, limits.pollIntervalMs));
      }
    }
    return { conversationId, messageId: turnId, fromOffset, events: events() };
  };

  /**
   * The client's answer ended while it was away (a dropped connection in its last
   * moments): the rest of it and its end, when it is the conversation's last answer.
   */
  async function endOfAnswer(
    userId: string,
    conversation: Conversation,
    after: StreamPosition,
  ): Promise<FollowedTurn | undefined> {
    const answer = await store.message(userId, conversation.id, conversation.lastSeq);
    if (!answer || answer.id !== after.messageId || answer.role !== 'assistant') return undefined;
    const start: TurnEvent = {
      type: 'start',
      conversationId: conversation.id,
      messageId: answer.id,
      model: answer.model ?? 'unknown',
    };
    const rest = answer.content.slice(after.offset);
    // With all of its text, it may yet lack the end: how the answer ended, and its cost.
    const events = rest
      ? [start, { type: 'text', text: rest } as const, endOf(answer)]
      : [start, endOf(answer)];
    return {
      conversationId: conversation.id,
      messageId: answer.id,
      fromOffset: after.offset,
      events: (async function* () {
        yield* events;
      })(),
    };
  }
}

function endOf(answer: StoredMessage): TurnEvent {
  // As the turn's own stream ended: its failure as the stream told it.
  if (answer.stopReason === 'error') {
    return {
      type: 'error',
      error: answer.failure ? new ModelError(answer.failure.kind, answer.failure.message) : FAILED,
      billed: {
        messageId: answer.id,
        usage: answer.usage ?? ZERO_USAGE,
        ...(answer.usageEstimated && { usageEstimated: true }),
        costNanoUsd: answer.costNanoUsd ?? 0,
      },
    };
  }
  return {
    type: 'done',
    messageId: answer.id,
    stopReason: answer.stopReason ?? 'end_turn',
    usage: answer.usage ?? ZERO_USAGE,
    ...(answer.usageEstimated && { usageEstimated: true }),
    costNanoUsd: answer.costNanoUsd ?? 0,
  };
}

// Not retryable: resuming again finds no answer streaming.
const DELETED: TurnEvent = {
  type: 'error',
  error: new ModelError('invalid_request', 'the conversation was deleted'),
};
// Undone before its model call: refused (budget, rate limit), as the request that sent it was told.
const WITHDRAWN: TurnEvent = {
  type: 'error',
  error: new ModelError(
    'invalid_request',
    'the question was refused before it was answered and is not in the conversation',
  ),
};
// An answer stored before its failure was kept: asking again may well succeed.
const FAILED = new ModelError(
  'api_error',
  'the answer failed before it ended; what it said is kept',
);
