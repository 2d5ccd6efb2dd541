import { NotFoundError } from '../../../shared/domain/errors.js';
import { isConversationId } from '../../../shared/domain/ids.js';

/** The `:id` of a conversation route; a malformed id names no conversation: 404, as for any unknown one. */
export function conversationIdOf(params: Record<string, string>): string {
  const id = params.id ?? '';
  if (!isConversationId(id)) throw conversationNotFound(id);
  return id;
}

export function conversationNotFound(id: string | undefined): NotFoundError {
  return new NotFoundError(`conversation ${JSON.stringify(id)} does not exist`);
}
