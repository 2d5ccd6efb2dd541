import { createHash } from 'node:crypto';
import type { CacheControl, ContentBlock, MessagesRequest } from './request.js';
import { estimateTokens } from './tokens.js';

/** One block of the prompt in cache order: tools, then system, then messages. */
export interface PromptSegment {
  tokens: number;
  /** Identifies the whole prefix ending with this block (a hash chain). */
  prefixHash: string;
  /** Set when this block carries a cache breakpoint. */
  breakpointTtl?: '5m' | '1h';
}

const DIRECTIVE_PATTERN = /\[\[local-claude:([^\]]*)\]\]/g;

/** The blocks of a request in the order the prompt cache sees them. */
export function promptSegments(request: MessagesRequest): PromptSegment[] {
  const blocks: Array<{ key: unknown; text: string; cache: CacheControl | null | undefined }> = [
    ...(request.tools ?? []).map(({ cache_control, ...tool }) => ({
      key: ['tool', tool],
      text: JSON.stringify(tool),
      cache: cache_control,
    })),
    ...asBlocks(request.system).map((block) => ({
      key: ['system', withoutCacheControl(block)],
      text: blockText(block),
      cache: block.cache_control,
    })),
    // Consecutive messages with the same role hash like one merged message, as the API merges them.
    ...request.messages.flatMap((message) =>
      asBlocks(message.content).map((block) => ({
        key: [message.role, withoutCacheControl(block)],
        text: blockText(block),
        cache: block.cache_control,
      })),
    ),
  ];
  let previous = '';
  const segments = blocks.map(({ key, text, cache }): PromptSegment => {
    previous = createHash('sha256').update(previous).update(JSON.stringify(key)).digest('hex');
    return {
      tokens: estimateTokens(text),
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
export function lastUserText(request: MessagesRequest): string {
  const message = request.messages.findLast((candidate) => candidate.role === 'user');
  if (!message) return '';
  return asBlocks(message.content)
    .filter((block) => block.type === 'text')
    .map(blockText)
    .join('\n');
}

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

function blockText(block: ContentBlock): string {
  return block.type === 'text' && block.text !== undefined
    ? block.text
    : JSON.stringify(withoutCacheControl(block));
}
