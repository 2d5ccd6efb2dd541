import type { AnswerBlock } from './answer.js';
import { estimateTokens } from './tokens.js';

type Json = Record<string, unknown>;

/** One content_block_delta and the output tokens it carries. */
export interface DeltaWire {
  delta: Json;
  tokens: number;
  /** Tokens generated before it that no delta shows (omitted thinking): silence, but pings. */
  silentTokens?: number;
}

/** A block as the API sends it: streamed (start, deltas) and in the final Message. */
export interface BlockWire {
  start: Json;
  deltas: DeltaWire[];
  final: Json;
}

/** Characters of tool JSON per input_json_delta: several chunks for any real input. */
const JSON_CHUNK_CHARS = 16;

/** Tools the client runs; the API marks every such call as made directly by the model. */
const DIRECT_CALLER = { type: 'direct' };

/**
 * The wire form of a block. Thinking streams one thinking_delta per token then one
 * signature_delta; text streams an optional citations_delta then one text_delta per
 * token; a tool call starts with `input: {}` and streams its JSON in input_json_delta chunks.
 */
export function blockWire(block: AnswerBlock): BlockWire {
  switch (block.type) {
    case 'thinking': {
      const thinking = block.words.join('');
      return {
        start: { type: 'thinking', thinking: '', signature: '' },
        deltas: [
          ...block.words.map((word) => ({
            delta: { type: 'thinking_delta', thinking: word },
            tokens: 1,
          })),
          // Omitted thinking is billed all the same: its tokens ride on the signature, which
          // comes once they are all thought.
          {
            delta: { type: 'signature_delta', signature: block.signature },
            tokens: block.omitted ? block.tokens : 0,
            ...(block.omitted && { silentTokens: block.tokens }),
          },
        ],
        final: { type: 'thinking', thinking, signature: block.signature },
      };
    }
    case 'text': {
      const { citation } = block;
      return {
        start: { type: 'text', text: '', ...(citation && { citations: [] }) },
        deltas: [
          ...(citation ? [{ delta: { type: 'citations_delta', citation }, tokens: 0 }] : []),
          ...block.words.map((text) => ({ delta: { type: 'text_delta', text }, tokens: 1 })),
        ],
        final: {
          type: 'text',
          text: block.words.join(''),
          ...(citation && { citations: [citation] }),
        },
      };
    }
    case 'tool_use': {
      const { id, name, input } = block;
      return {
        start: { type: 'tool_use', id, name, input: {}, caller: DIRECT_CALLER },
        deltas: jsonChunks(JSON.stringify(input)),
        final: { type: 'tool_use', id, name, input, caller: DIRECT_CALLER },
      };
    }
  }
}

/** The JSON in chunks that concatenate to it; their tokens add up to ceil(chars / 4). */
function jsonChunks(json: string): DeltaWire[] {
  const chunks: DeltaWire[] = [];
  let start = 0;
  while (start < json.length) {
    let end = Math.min(start + JSON_CHUNK_CHARS, json.length);
    // Never split a surrogate pair: each chunk must be valid text on its own.
    if (end < json.length && /[\uD800-\uDBFF]/.test(json.charAt(end - 1))) end += 1;
    chunks.push({
      delta: { type: 'input_json_delta', partial_json: json.slice(start, end) },
      tokens: estimateTokens(json.slice(0, end)) - estimateTokens(json.slice(0, start)),
    });
    start = end;
  }
  return chunks;
}
