const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** A typical-case token estimate (~4 bytes a token for English), for windows and thresholds. */
export function estimateTokens(text: string): number {
  return Math.ceil(utf8Bytes(text) / 4);
}

/**
 * A guaranteed upper bound of the tokens `text` can take: Claude's tokenizer never
 * spends more than one token per byte, plus framing per message. Budgets use this.
 */
export function maxTokensOf(texts: readonly string[]): number {
  const FRAMING_TOKENS_PER_TEXT = 8;
  return texts.reduce((sum, text) => sum + utf8Bytes(text) + FRAMING_TOKENS_PER_TEXT, 16);
}
