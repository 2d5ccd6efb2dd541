import type { ContentBlock } from './request-schema.js';
import { estimateTokens } from './tokens.js';

/** What one image costs, whatever its size: the API's ceiling for an image (about 1.15 megapixels). */
export const IMAGE_TOKENS = 1600;

/** What a PDF costs per started 10 KB of decoded bytes (a page of text and its image, roughly). */
export const PDF_TOKENS_PER_10_KB = 1500;
const PDF_UNIT_BYTES = 10 * 1024;

type Fields = Record<string, unknown>;

/**
 * Input tokens of one content block. Stable and cheap rather than exact:
 * - text: ceil(chars / 4); thinking: ceil(thinking chars / 4), the signature is free;
 *   redacted_thinking: ceil(data chars / 4)
 * - image: IMAGE_TOKENS, whatever the source
 * - document: its body plus ceil((title + context) chars / 4); the body is
 *   PDF_TOKENS_PER_10_KB per started 10 KB of a base64 PDF (one unit for a URL or file
 *   PDF), ceil(chars / 4) for a text document, the sum of its blocks for a content document
 * - tool_result: the sum of its content (a string counts as text); the wrapper is free
 * - anything else (tool_use, server tool blocks…): ceil(chars of its JSON / 4), without cache_control
 */
export function blockTokens(block: ContentBlock | Fields): number {
  const fields = block as Fields;
  switch (fields.type) {
    case 'text':
      return textTokens(fields.text);
    case 'image':
      return IMAGE_TOKENS;
    case 'document':
      return documentTokens(fields);
    case 'tool_result':
      return contentTokens(fields.content);
    case 'thinking':
      return textTokens(fields.thinking);
    case 'redacted_thinking':
      return textTokens(fields.data);
    default: {
      const { cache_control: _ignored, ...rest } = fields;
      return estimateTokens(JSON.stringify(rest));
    }
  }
}

function documentTokens(document: Fields): number {
  const source = (document.source ?? {}) as Fields;
  const label = `${stringOr(document.title)}${stringOr(document.context)}`;
  return bodyTokens(source) + estimateTokens(label);
}

function bodyTokens(source: Fields): number {
  switch (source.type) {
    case 'base64': {
      const bytes = Buffer.byteLength(stringOr(source.data), 'base64');
      return Math.ceil(bytes / PDF_UNIT_BYTES) * PDF_TOKENS_PER_10_KB;
    }
    case 'text':
      return textTokens(source.data);
    case 'content':
      return contentTokens(source.content);
    default:
      return PDF_TOKENS_PER_10_KB;
  }
}

function contentTokens(content: unknown): number {
  if (typeof content === 'string') return estimateTokens(content);
  if (!Array.isArray(content)) return 0;
  return content.reduce((sum: number, item: Fields) => sum + blockTokens(item), 0);
}

const textTokens = (text: unknown) => estimateTokens(stringOr(text));

const stringOr = (value: unknown) => (typeof value === 'string' ? value : '');
