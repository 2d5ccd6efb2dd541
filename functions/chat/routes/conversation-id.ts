import { NotFoundError } from '../../../shared/domain/errors.js';
import { isConversationId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';

/** The `:id` of a conversation route; a malformed id names no conversation: 404, as for any unknown one. */
export function conversationIdOf(params: Record<string, string>): string {
  const id = params.id ?? '';
  if (!isConversationId(id)) throw conversationNotFound(id);
  return id;
}

/** A malformed id may be of any length: a long one is quoted cut, not echoed whole. */
export function conversationNotFound(id: string | undefined): NotFoundError {
  return new NotFoundError(
    `conversation ${id === undefined ? 'undefined' : quoted(id)} does not exist`,
  );
}
