import { truncateText } from './tokens.js';

/**
 * `text` cut to at most `maxChars` UTF-16 code units between graphemes, `…` marking the cut:
 * half an emoji in a JSON string is no character, and a client that prints it may fail
 * (Python's `print` raises).
 */
export function cutText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${truncateText(text, maxChars)}…`;
}
