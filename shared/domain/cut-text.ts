/**
 * `text` cut to at most `maxChars` UTF-16 code units, `…` marking the cut, never between the
 * two halves of a surrogate pair: half an emoji in a JSON string is no character, and a
 * client that prints it may fail (Python's `print` raises).
 */
export function cutText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const lastKept = text.charCodeAt(maxChars - 1);
  const end = lastKept >= 0xd800 && lastKept <= 0xdbff ? maxChars - 1 : maxChars;
  return `${text.slice(0, end)}…`;
}
