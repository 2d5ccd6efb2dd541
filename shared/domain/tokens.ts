const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** A typical-case token estimate (~4 bytes a token for English), for windows and thresholds. */
export function estimateTokens(text: string): number {
  return estimateTokensOfBytes(utf8Bytes(text));
}

/** {@link estimateTokens} of a text measured already: its UTF-8 bytes. */
export function estimateTokensOfBytes(bytes: number): number {
  return Math.ceil(bytes / 4);
}

/**
 * Faster than any Claude model generates (fast mode, at up to 2.5 times the standard speed,
 * included): the most output a call can have been billed per second it ran.
 */
export const MAX_OUTPUT_TOKENS_PER_SECOND = 1_000;

/**
 * The most output tokens a call can have generated in `ms`: what a cut answer is billed for
 * the time Claude thought unseen (erring high; the caller caps it at max_tokens).
 */
export const generatableTokens = (ms: number): number =>
  Math.ceil((Math.max(0, ms) / 1000) * MAX_OUTPUT_TOKENS_PER_SECOND);

/**
 * Output tokens of text whose final count never came (a stream cut short), erring high:
 * one token per 3 bytes of ASCII and per 2 bytes of other text. Claude averages about 4
 * characters of English per token and about one token per CJK character (3 bytes), and
 * Anthropic also bills what it generated but had not yet sent when the stream was cut.
 */
export function estimateOutputTokens(text: string): number {
  const bytes = utf8Bytes(text);
  let ascii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x80) ascii++;
  return Math.ceil(ascii / 3 + (bytes - ascii) / 2);
}

/**
 * A guaranteed upper bound of the tokens `text` can take: Claude's tokenizer never
 * spends more than one token per byte, plus framing per message. Budgets use this.
 */
export function maxTokensOf(texts: readonly string[]): number {
  const FRAMING_TOKENS_PER_TEXT = 8;
  return texts.reduce((sum, text) => sum + utf8Bytes(text) + FRAMING_TOKENS_PER_TEXT, 16);
}

let graphemes: Intl.Segmenter | undefined;

/**
 * Builds what {@link truncateText} and {@link truncateUtf8} cut with, if not built yet. The
 * first Intl object of a process initializes ICU, ~15–25 ms of CPU: a function calls this
 * in the background after its entry has loaded, not while it loads (`npm run bench`).
 */
export function prepareTextCuts(): Intl.Segmenter {
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return graphemes;
}

/**
 * At most `maxLength` UTF-16 code units of `text`, cut between graphemes: never inside a
 * surrogate pair (which could not be stored as UTF-8) or an emoji sequence.
 */
export function truncateText(text: string, maxLength: number): string {
  return prefixWithin(text, maxLength, (segment) => segment.length);
}

/** At most `maxBytes` bytes of `text` as UTF-8, cut between graphemes like {@link truncateText}. */
export function truncateUtf8(text: string, maxBytes: number): string {
  return prefixWithin(text, maxBytes, utf8Bytes);
}

function prefixWithin(text: string, max: number, sizeOf: (segment: string) => number): string {
  if (sizeOf(text) <= max) return text;
  let end = 0;
  let size = 0;
  for (const { index, segment } of prepareTextCuts().segment(text)) {
    size += sizeOf(segment);
    if (size > max) break;
    end = index + segment.length;
  }
  return text.slice(0, end);
}
