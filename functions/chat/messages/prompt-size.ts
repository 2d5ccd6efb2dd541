import { utf8Bytes } from '../../../shared/domain/tokens.js';
import { countPdfPages } from './pdf-pages.js';

/** No prompt is larger than the largest context window (1M tokens, the 1M-context beta). */
const MAX_PROMPT_TOKENS = 1_000_000;
/** An image is resized to at most ~1.15 megapixels (≈1,600 tokens); high-resolution models take more. */
const IMAGE_MAX_TOKENS = 10_000;
const IMAGE_TYPICAL_TOKENS = 1_600;
/** A PDF page is its text (≤ ~3,000 tokens) and an image of it. */
const PDF_PAGE_MAX_TOKENS = 5_000;
const PDF_PAGE_TYPICAL_TOKENS = 2_000;
/** The most pages a PDF may have; used when its pages cannot be counted. */
const PDF_MAX_PAGES = 100;
/**
 * The typical case of a PDF whose pages cannot be counted (by url, by file id, or pages in
 * compressed object streams): the worst case would exceed a default tokens-per-minute
 * window on its own, and the window is corrected to the real count once the call ends.
 */
const PDF_UNCOUNTED_TYPICAL_PAGES = 10;
/** The system prompt the API adds when tools are given (≈350 tokens today). */
const TOOLS_OVERHEAD_TOKENS = 1_000;
/**
 * What a server tool (web search, web fetch…) may add to the prompt, once per use, when
 * nothing bounds a use: an allowance, not a bound (a page fetched can be any size).
 */
const SERVER_TOOL_MAX_TOKENS = 100_000;
/** How many times a server tool without max_uses is counted on to run. */
const SERVER_TOOL_DEFAULT_USES = 10;
/**
 * Tools Anthropic defines but the caller runs (bash, the text editor, computer use, memory):
 * typed and schema-less as server tools are, yet they bring into the context only their
 * definition (at most ~750 tokens today, besides the tools overhead) and what the caller
 * sends back as tool results, which are measured where they are.
 */
const CLIENT_RUN_TOOL_TYPE = /^(bash|text_editor|computer|memory)_/;
const CLIENT_RUN_TOOL_MAX_TOKENS = 2_000;

export interface PromptSize {
  /** A guaranteed upper bound of the prompt's tokens: the budget reserves it. */
  maxTokens: number;
  /** A typical-case estimate, for rate limits. */
  typicalTokens: number;
  /** Web searches the request allows (max_uses, or 10 when unbounded): priced per search. */
  maxWebSearches: number;
}

/**
 * Measures a Messages API request without a tokenizer: text at one token per UTF-8
 * byte (Claude's tokenizer never spends more), images and documents by their kind,
 * erring high. Nothing is changed in the request.
 */
export function measurePrompt(request: {
  messages: unknown;
  system?: unknown;
  tools?: ReadonlyArray<Record<string, unknown>>;
}): PromptSize {
  const media = { maxTokens: 0, typicalTokens: 0 };
  const text = JSON.stringify({
    system: request.system,
    messages: withMediaMeasured(request.messages, media),
    tools: request.tools,
  });
  const textBytes = utf8Bytes(text);
  const tools = request.tools ?? [];
  const serverTools = tools.filter(isServerTool);
  const maxTokens =
    textBytes +
    media.maxTokens +
    (tools.length > 0 ? TOOLS_OVERHEAD_TOKENS : 0) +
    tools.filter(isClientRunTool).length * CLIENT_RUN_TOOL_MAX_TOKENS +
    serverTools.reduce((sum, tool) => sum + serverToolMaxTokens(tool), 0);
  const bound = Math.min(MAX_PROMPT_TOKENS, maxTokens);
  return {
    maxTokens: bound,
    typicalTokens: Math.min(bound, Math.ceil(textBytes / 4) + media.typicalTokens),
    maxWebSearches: serverTools
      .filter((tool) => String(tool.type).startsWith('web_search'))
      .reduce((sum, tool) => sum + usesOf(tool), 0),
  };
}

type Size = { maxTokens: number; typicalTokens: number };
type Block = Record<string, unknown> & { source?: Record<string, unknown> };

/**
 * The messages with each image's and PDF's source left out, its size added to `media`.
 * Only content blocks are media, where the API reads them (a message's content, a tool
 * result's, a document's made of content blocks, a web fetch result's document): an object of `type: "image"` anywhere
 * else (a tool's input) is text the model reads, and so is every other field of a media
 * block (a document's title and context).
 */
function withMediaMeasured(messages: unknown, media: Size): unknown {
  if (!Array.isArray(messages)) return messages;
  const measureBlock = (block: unknown): unknown => {
    if (!isRecord(block)) return block;
    if (block.type === 'tool_result' && Array.isArray(block.content)) {
      return { ...block, content: block.content.map(measureBlock) };
    }
    // A web fetch's result, replayed: the API reads its document again, a PDF by its pages.
    if (block.type === 'web_fetch_tool_result' && isRecord(block.content)) {
      const { content: fetched } = block.content;
      if (isRecord(fetched)) {
        return { ...block, content: { ...block.content, content: measureBlock(fetched) } };
      }
    }
    const { source } = block;
    if (block.type === 'document' && isRecord(source) && Array.isArray(source.content)) {
      return { ...block, source: { ...source, content: source.content.map(measureBlock) } };
    }
    const size = mediaSize(block);
    if (!size) return block;
    media.maxTokens += size.maxTokens;
    media.typicalTokens += size.typicalTokens;
    return { ...block, source: null };
  };
  return messages.map((message) =>
    isRecord(message) && Array.isArray(message.content)
      ? { ...message, content: message.content.map(measureBlock) }
      : message,
  );
}

/** Sources the API reads as an image or a file, not as text. */
const MEDIA_SOURCES = new Set(['base64', 'url', 'file']);

/** An image's bound, or a PDF's by its pages; undefined for what is measured as text. */
function mediaSize(block: Record<string, unknown>): Size | undefined {
  const source = block.source;
  if (!isRecord(source) || !MEDIA_SOURCES.has(source.type as string)) return undefined;
  if (block.type === 'image')
    return { maxTokens: IMAGE_MAX_TOKENS, typicalTokens: IMAGE_TYPICAL_TOKENS };
  if (block.type !== 'document') return undefined;
  const counted =
    source.type === 'base64' && typeof source.data === 'string'
      ? countPdfPages(source.data)
      : undefined;
  const pages = counted === undefined ? undefined : Math.min(counted, PDF_MAX_PAGES);
  return {
    maxTokens: (pages ?? PDF_MAX_PAGES) * PDF_PAGE_MAX_TOKENS,
    typicalTokens: (pages ?? PDF_UNCOUNTED_TYPICAL_PAGES) * PDF_PAGE_TYPICAL_TOKENS,
  };
}

function isRecord(value: unknown): value is Block {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A server tool's `max_uses`; null or unset is no limit, counted on as 10 uses. */
const usesOf = (tool: Record<string, unknown>) =>
  typeof tool.max_uses === 'number' ? tool.max_uses : SERVER_TOOL_DEFAULT_USES;

/** A web fetch's `max_content_tokens` bounds each use: all its uses may fill them. */
function serverToolMaxTokens(tool: Record<string, unknown>): number {
  const perUse = tool.max_content_tokens;
  const bounded =
    typeof perUse === 'number' && Number.isFinite(perUse) && perUse > 0 ? perUse * usesOf(tool) : 0;
  return Math.max(SERVER_TOOL_MAX_TOKENS, bounded);
}

/** A tool the API runs itself (web search, code execution…): a versioned type and no input schema. */
function isServerTool(tool: Record<string, unknown>): boolean {
  return (
    typeof tool.type === 'string' &&
    tool.type !== 'custom' &&
    !('input_schema' in tool) &&
    !isClientRunTool(tool)
  );
}

function isClientRunTool(tool: Record<string, unknown>): boolean {
  return typeof tool.type === 'string' && CLIENT_RUN_TOOL_TYPE.test(tool.type);
}
