import { isSuperseded, type StoredMessage } from '../../../shared/domain/conversation.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';

/**
 * The question a regenerate would ask again: the conversation's last question not
 * superseded by a regenerate or an edit.
 * @returns undefined for a conversation the user does not have, or one with no question
 */
export async function lastQuestion(
  store: Pick<ConversationStore, 'getConversation' | 'message'>,
  userId: string,
  conversationId: string,
): Promise<StoredMessage | undefined> {
  const conversation = await store.getConversation(userId, conversationId);
  if (!conversation) return undefined;
  for (let seq = conversation.lastSeq; seq >= 1; seq--) {
    if (isSuperseded(seq, conversation.superseded)) continue;
    const message = await store.message(userId, conversationId, seq);
    if (message?.role === 'user') return message;
  }
  return undefined;
}
