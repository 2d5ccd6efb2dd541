import type { Clock } from '../../../shared/domain/clock.js';
import type { Conversation } from '../../../shared/domain/conversation.js';
import { ConflictError, NotFoundError } from '../../../shared/domain/errors.js';
import { isConversationId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { RecoverTurn } from '../../../shared/turns/recover-turn.js';
import type { TurnLimits } from './turn-types.js';

/**
 * The conversation a turn continues, free for it: a turn asked to stop is waited for, one
 * whose function died is recovered first.
 * @throws NotFoundError, ConflictError while another turn streams in it
 */
export async function findConversation(
  deps: { store: ConversationStore; recover: RecoverTurn; clock: Clock; limits: TurnLimits },
  userId: string,
  conversationId: string,
): Promise<Conversation> {
  const read = async () => {
    const found = isConversationId(conversationId)
      ? await deps.store.getConversation(userId, conversationId)
      : undefined;
    if (!found) {
      throw new NotFoundError(`conversation ${quoted(conversationId)} does not exist`);
    }
    return found;
  };
  let conversation = await read();
  // A turn asked to stop ends at its next poll: a question sent right after Stop waits for
  // it to store what it streamed instead of being refused.
  const polls = (deps.limits.stopPollIntervalMs + STOPPED_TURN_FINISH_MS) / STOPPING_TURN_POLL_MS;
  for (let poll = 0; poll < polls && isStopping(conversation.activeTurn, deps.clock()); poll++) {
    await new Promise((resolve) => setTimeout(resolve, STOPPING_TURN_POLL_MS));
    conversation = await read();
  }
  // Fail fast on the common race; beginTurn's condition is what guarantees it.
  if (conversation.activeTurn && conversation.activeTurn.leaseUntilMs >= deps.clock()) {
    throw new ConflictError('another turn is in progress in this conversation; retry when it ends');
  }
  if (conversation.activeTurn) {
    // Its function died: keep what it streamed and settle its hold before taking over.
    await deps.recover(userId, conversationId);
    conversation = await read();
  }
  return conversation;
}

/** How long a stopped turn may take, after it sees the stop, to store its answer and settle. */
const STOPPED_TURN_FINISH_MS = 2_000;
const STOPPING_TURN_POLL_MS = 50;

function isStopping(turn: Conversation['activeTurn'], nowMs: number): boolean {
  return turn?.stopping === true && turn.leaseUntilMs >= nowMs;
}
