import { invalidRequest } from './errors.js';
import { detectImageType, IMAGE_MEDIA_TYPES, isBase64, isPdf } from './media.js';
import type { ContentBlock, PromptRequest } from './request-schema.js';

type Fields = Record<string, unknown>;

/**
 * Checks the content blocks the local Claude understands the way the API does, with its
 * error paths: `messages.<i>.content.<j>.<block type>.<field>`.
 * @throws ApiError 400 `invalid_request_error` naming the first bad field
 */
export function checkBlocks(messages: PromptRequest['messages']): void {
  messages.forEach((message, index) => {
    if (typeof message.content === 'string') return;
    message.content.forEach((block, blockIndex) => {
      checkBlock(block, `messages.${index}.content.${blockIndex}`);
    });
  });
}

function checkBlock(block: ContentBlock | Fields, at: string): void {
  const fields = block as Fields;
  switch (fields.type) {
    case 'image':
      checkImage(fields, `${at}.image`);
      break;
    case 'document':
      checkDocument(fields, `${at}.document`);
      break;
    case 'tool_use':
      checkToolUse(fields, `${at}.tool_use`);
      break;
    case 'tool_result':
      checkToolResult(fields, `${at}.tool_result`);
      break;
    case 'thinking':
      requireString(fields, 'thinking', `${at}.thinking`);
      requireString(fields, 'signature', `${at}.thinking`);
      break;
    case 'redacted_thinking':
      requireString(fields, 'data', `${at}.redacted_thinking`);
      break;
  }
}

function checkImage(block: Fields, at: string): void {
  const source = requireSource(block, at, ['base64', 'url', 'file']);
  if (source.type === 'url') {
    requireString(source, 'url', `${at}.source.url`);
    return;
  }
  if (source.type === 'file') {
    requireString(source, 'file_id', `${at}.source.file`);
    return;
  }
  const base64At = `${at}.source.base64`;
  const mediaType = source.media_type;
  if (typeof mediaType !== 'string' || !IMAGE_MEDIA_TYPES.includes(mediaType)) {
    throw invalidRequest(
      `${base64At}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
    );
  }
  const data = requireBase64(source, base64At);
  if (detectImageType(data) !== mediaType) {
    throw invalidRequest(
      `${base64At}.data: Image does not match the provided media type ${mediaType}`,
    );
  }
}

function checkDocument(block: Fields, at: string): void {
  const source = requireSource(block, at, ['base64', 'text', 'content', 'url', 'file']);
  switch (source.type) {
    case 'base64': {
      const base64At = `${at}.source.base64`;
      if (source.media_type !== 'application/pdf') {
        throw invalidRequest(`${base64At}.media_type: Input should be 'application/pdf'`);
      }
      // The API's wording for a body that is not a PDF was not found; this one names the field.
      if (!isPdf(requireBase64(source, base64At))) {
        throw invalidRequest(`${base64At}.data: The PDF specified was not valid.`);
      }
      break;
    }
    case 'text':
      if (source.media_type !== 'text/plain') {
        throw invalidRequest(`${at}.source.text.media_type: Input should be 'text/plain'`);
      }
      requireString(source, 'data', `${at}.source.text`);
      break;
    case 'content':
      checkDocumentContent(source.content, `${at}.source.content.content`);
      break;
    case 'url':
      requireString(source, 'url', `${at}.source.url`);
      break;
    case 'file':
      requireString(source, 'file_id', `${at}.source.file`);
      break;
  }
  for (const name of ['title', 'context']) {
    if (block[name] != null && typeof block[name] !== 'string') {
      throw invalidRequest(`${at}.${name}: Input should be a valid string`);
    }
  }
  const citations = block.citations;
  if (citations != null) {
    if (!isObject(citations)) throw invalidRequest(`${at}.citations: Input should be an object`);
    if (citations.enabled !== undefined && typeof citations.enabled !== 'boolean') {
      throw invalidRequest(`${at}.citations.enabled: Input should be a valid boolean`);
    }
  }
}

function checkDocumentContent(content: unknown, at: string): void {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw invalidRequest(`${at}: Field required`);
  content.forEach((item: unknown, index) => {
    const itemAt = `${at}.${index}`;
    if (!isObject(item) || (item.type !== 'text' && item.type !== 'image')) {
      throw invalidRequest(`${itemAt}: Input should be a 'text' or 'image' block`);
    }
    if (item.type === 'text') requireString(item, 'text', `${itemAt}.text`);
    else checkImage(item, `${itemAt}.image`);
  });
}

function checkToolUse(block: Fields, at: string): void {
  const id = requireString(block, 'id', at);
  if (!/^[a-zA-Z0-9_-]+$/.test(id)) {
    throw invalidRequest(`${at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
  }
  requireString(block, 'name', at);
  if (!isObject(block.input))
    throw invalidRequest(`${at}.input: Input should be a valid dictionary`);
}

function checkToolResult(block: Fields, at: string): void {
  requireString(block, 'tool_use_id', at);
  if (block.is_error !== undefined && typeof block.is_error !== 'boolean') {
    throw invalidRequest(`${at}.is_error: Input should be a valid boolean`);
  }
  const content = block.content;
  if (content === undefined || typeof content === 'string') return;
  if (!Array.isArray(content)) {
    throw invalidRequest(`${at}.content: Input should be a valid string or a list of blocks`);
  }
  content.forEach((item: unknown, index) => {
    if (!isObject(item)) throw invalidRequest(`${at}.content.${index}: Input should be an object`);
    checkBlock(item, `${at}.content.${index}`);
  });
}

function requireSource(block: Fields, at: string, types: readonly string[]): Fields {
  const source = block.source;
  if (!isObject(source)) throw invalidRequest(`${at}.source: Field required`);
  if (typeof source.type !== 'string' || !types.includes(source.type)) {
    const expected = types.map((type) => `'${type}'`).join(', ');
    throw invalidRequest(
      `${at}.source: Input tag '${String(source.type)}' found using 'type' does not match any of the expected tags: ${expected}`,
    );
  }
  return source;
}

function requireBase64(source: Fields, at: string): Buffer {
  const data = requireString(source, 'data', at);
  if (!isBase64(data)) throw invalidRequest(`${at}: invalid base64 data`);
  return Buffer.from(data, 'base64');
}

function requireString(fields: Fields, name: string, at: string): string {
  const value = fields[name];
  if (value === undefined) throw invalidRequest(`${at}.${name}: Field required`);
  if (typeof value !== 'string')
    throw invalidRequest(`${at}.${name}: Input should be a valid string`);
  return value;
}

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
