/**
 * Token estimates. Not a real tokenizer: about four characters per token, which is
 * close to Claude's for English text and, above all, stable: the same text always
 * counts the same, so prefix sums add up exactly.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
