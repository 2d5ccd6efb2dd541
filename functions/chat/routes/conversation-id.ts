import { cutText } from '../../../shared/domain/cut-text.js';
import { NotFoundError } from '../../../shared/domain/errors.js';
import { isConversationId } from '../../../shared/domain/ids.js';

/** The `:id` of a conversation route; a malformed id names no conversation: 404, as for any unknown one. */
export function conversationIdOf(params: Record<string, string>): string {
  const id = params.id ?? '';
  if (!isConversationId(id)) throw conversationNotFound(id);
  return id;
}

/** No id of ours is longer than 100 characters: a longer one is quoted cut, not echoed whole. */
export function conversationNotFound(id: string | undefined): NotFoundError {
  const quoted = id === undefined ? id : cutText(id, 100);
  return new NotFoundError(`conversation ${JSON.stringify(quoted)} does not exist`);
}
