import { createHash } from 'node:crypto';

/** A reply decided in full before it is sent: the same request always gets the same plan. */
export interface ReplyPlan {
  /** The text deltas, one token each: a word with its leading space. */
  deltas: string[];
  /** Tokens generated, counting one that held a stop sequence (which is not sent). */
  outputTokens: number;
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence';
  stopSequence: string | null;
}

export interface ReplyRequest {
  /** The last user message without directives; it seeds the words. */
  prompt: string;
  maxTokens: number;
  /** Tokens the model "wants" to say before it ends its turn. @default DEFAULT_REPLY_TOKENS */
  length?: number;
  /** Words the reply starts with (`Echo:` and the prompt's first words, say); one token each. */
  lead?: readonly string[];
  stopSequences?: readonly string[];
}

export const DEFAULT_REPLY_TOKENS = 30;

const VOCABULARY = (
  'the a model answer cloud request stream token cache prompt lambda region budget queue ' +
  'message function latency quickly gently clearly result table record value signal window ' +
  'serverless local test turn user assistant text reply bright quiet steady simple careful ' +
  'and with from into over under about before after while because then so it we they this ' +
  'is was will can should might runs keeps sends reads writes waits counts holds returns'
).split(' ');

export function planReply(request: ReplyRequest): ReplyPlan {
  const wanted = request.length ?? DEFAULT_REPLY_TOKENS;
  // Cut the full reply rather than write a shorter one: max_tokens stops mid-sentence.
  const tokens = seededTokens(request.prompt, wanted, request.lead ?? []).slice(
    0,
    request.maxTokens,
  );
  let text = '';
  for (const [index, token] of tokens.entries()) {
    text += token;
    const stop = earliestStop(text, request.stopSequences ?? []);
    if (stop) {
      return {
        deltas: cut(tokens.slice(0, index + 1), stop.index),
        outputTokens: index + 1,
        stopReason: 'stop_sequence',
        stopSequence: stop.sequence,
      };
    }
  }
  return {
    deltas: tokens,
    outputTokens: tokens.length,
    stopReason: wanted > request.maxTokens ? 'max_tokens' : 'end_turn',
    stopSequence: null,
  };
}

/**
 * `count` tokens of sentence-like words seeded by `seed`, after the `lead` words: a word
 * with its leading space each (none before the first).
 */
export function seededTokens(seed: string, count: number, lead: readonly string[] = []): string[] {
  const words = [...lead];
  const random = seededRandom(seed);
  let sentenceLeft = 0;
  while (words.length < count) {
    if (sentenceLeft === 0) sentenceLeft = 5 + Math.floor(random() * 8);
    let word = VOCABULARY[Math.floor(random() * VOCABULARY.length)]!;
    if (sentenceLeft === 1 || words.length === count - 1) word += '.';
    if (words.length === 0 || words.at(-1)!.endsWith('.')) word = capitalize(word);
    words.push(word);
    sentenceLeft -= 1;
  }
  return words.slice(0, count).map((word, index) => (index === 0 ? word : ` ${word}`));
}

/** The first `count` words of a text, split on whitespace. */
export const firstWords = (text: string, count: number) =>
  text.split(/\s+/).filter(Boolean).slice(0, count);

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** mulberry32 seeded from a text: a deterministic stream of numbers in [0, 1). */
function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function earliestStop(text: string, sequences: readonly string[]) {
  let found: { index: number; sequence: string } | undefined;
  for (const sequence of sequences) {
    const index = sequence === '' ? -1 : text.indexOf(sequence);
    if (index !== -1 && (!found || index < found.index)) found = { index, sequence };
  }
  return found;
}

/** The tokens cut at a character offset, dropping what is left empty. */
function cut(tokens: readonly string[], at: number): string[] {
  const kept: string[] = [];
  let position = 0;
  for (const token of tokens) {
    const part = token.slice(0, Math.max(0, at - position));
    if (part) kept.push(part);
    position += token.length;
    if (position >= at) break;
  }
  return kept;
}
