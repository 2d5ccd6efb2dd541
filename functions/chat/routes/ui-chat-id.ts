import { createHash } from 'node:crypto';
import { ValidationError } from '../../../shared/domain/errors.js';
import { isConversationId } from '../../../shared/domain/ids.js';
import { quoted } from '../../../shared/domain/quoted.js';

/** A `useChat` chat id we accept: what the AI SDK generates, or any id of 1-128 letters, digits, `_` and `-`. */
export const CHAT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The conversation a `useChat` chat id names, for this user. One of our conversation ids
 * (`conv_` + 32 hex, from `GET /v1/conversations` or a message's metadata) names that
 * conversation; any other id is mapped to `conv_` + the first 32 hex of
 * SHA-256(userId, NUL, chatId): the same chat id always names the same conversation of
 * the same user, and never another user's.
 */
export function conversationIdOfChat(userId: string, chatId: string): string {
  if (!CHAT_ID_PATTERN.test(chatId)) {
    throw new ValidationError(
      `chat id ${quoted(chatId)} is not valid: use 1-128 letters, digits, _ or -`,
    );
  }
  if (isConversationId(chatId)) return chatId;
  const digest = createHash('sha256').update(`${userId}\u0000${chatId}`).digest('hex');
  return `conv_${digest.slice(0, 32)}`;
}
