import { createHash } from 'node:crypto';
import { blockTokens } from './block-tokens.js';
import type { CacheControl, ContentBlock, PromptRequest } from './request-schema.js';
import { estimateTokens } from './tokens.js';

/** One block of the prompt in cache order: tools, then system, then messages. */
export interface PromptSegment {
  tokens: number;
  /** Identifies the whole prefix ending with this block (a hash chain). */
  prefixHash: string;
  /** Set when this block carries a cache breakpoint. */
  breakpointTtl?: '5m' | '1h';
}

/**
 * A directive's body holds no bracket: an opening never closed is then read only to the next
 * `[`, not again to the end of the text from each opening (quadratic: 600 KB took 28 s).
 */
const DIRECTIVE_PATTERN = /\[\[local-claude:([^[\]]*)\]\]/g;

/** The blocks of a request in the order the prompt cache sees them. */
export function promptSegments(request: PromptRequest): PromptSegment[] {
  const blocks: Array<{ key: unknown; tokens: number; cache: CacheControl | null | undefined }> = [
    ...(request.tools ?? []).map(({ cache_control, ...tool }) => ({
      key: ['tool', tool],
      tokens: estimateTokens(JSON.stringify(tool)),
      cache: cache_control,
    })),
    ...asBlocks(request.system).map((block) => ({
      key: ['system', withoutCacheControl(block)],
      tokens: blockTokens(block),
      cache: block.cache_control,
    })),
    // Consecutive messages with the same role hash like one merged message, as the API merges them.
    ...request.messages.flatMap((message) =>
      asBlocks(message.content).map((block) => ({
        key: [message.role, withoutCacheControl(block)],
        tokens: blockTokens(block),
        cache: block.cache_control,
      })),
    ),
  ];
  let previous = '';
  const segments = blocks.map(({ key, tokens, cache }): PromptSegment => {
    previous = createHash('sha256').update(previous).update(JSON.stringify(key)).digest('hex');
    return {
      tokens,
      prefixHash: previous,
      ...(cache && { breakpointTtl: cache.ttl ?? '5m' }),
    };
  });
  // Top-level cache_control marks the last block, unless that block already carries one.
  const last = segments.at(-1);
  if (request.cache_control && last && !last.breakpointTtl) {
    last.breakpointTtl = request.cache_control.ttl ?? '5m';
  }
  return segments;
}

/** Total prompt tokens: what input, cache-read and cache-creation tokens add up to. */
export const promptTokens = (segments: readonly PromptSegment[]) =>
  segments.reduce((sum, segment) => sum + segment.tokens, 0);

/** The text of the last user message, directives included. */
export function lastUserText(request: PromptRequest): string {
  return textOf(lastUserBlocks(request).filter((block) => block.type === 'text'));
}

/**
 * The text of the `tool_result` blocks of the last user message (undefined when it has
 * none): what the tools answered, as the model reads it.
 */
export function lastToolResultText(request: PromptRequest): string | undefined {
  const results = lastUserBlocks(request).filter((block) => block.type === 'tool_result');
  if (results.length === 0) return undefined;
  return results
    .map(({ content }) =>
      typeof content === 'string' ? content : Array.isArray(content) ? textOf(content) : '',
    )
    .join('\n');
}

function lastUserBlocks(request: PromptRequest): ContentBlock[] {
  const message = request.messages.findLast((candidate) => candidate.role === 'user');
  return message ? asBlocks(message.content) : [];
}

const textOf = (blocks: readonly ContentBlock[]) =>
  blocks.flatMap((block) => (block.type === 'text' && block.text ? [block.text] : [])).join('\n');

/** The directive bodies (`fault=drop after=2`) found in a text. */
export const directivesIn = (text: string): string[] =>
  [...text.matchAll(DIRECTIVE_PATTERN)].map((match) => match[1]!.trim());

/** A text without its directives. */
export const withoutDirectives = (text: string): string => text.replace(DIRECTIVE_PATTERN, ' ');

function asBlocks(content: string | ContentBlock[] | undefined): ContentBlock[] {
  if (content === undefined) return [];
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function withoutCacheControl({ cache_control: _ignored, ...block }: ContentBlock) {
  return block;
}
