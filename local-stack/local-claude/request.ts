import type { z } from 'zod';
import { checkBlocks } from './block-checks.js';
import { ApiError, invalidRequest } from './errors.js';
import { maxOutputTokens } from './models.js';
import {
  type CacheControl,
  type ContentBlock,
  type CountTokensRequest,
  CountTokensRequestSchema,
  type MessagesRequest,
  MessagesRequestSchema,
  type PromptRequest,
} from './request-schema.js';
import { checkThinking } from './thinking.js';
import { checkTools, checkToolTurns } from './tool-checks.js';

/** The most breakpoints one request may carry. */
export const MAX_CACHE_BREAKPOINTS = 4;

/**
 * Parses and checks a request body the way the real API does.
 * @throws ApiError 400 `invalid_request_error`, or 404 `not_found_error` for an unknown model
 */
export function parseMessagesRequest(body: unknown, models: ReadonlySet<string>): MessagesRequest {
  const request = parseWith(MessagesRequestSchema, body);
  checkModel(request, models);
  const limit = maxOutputTokens(request.model);
  if (limit !== undefined && request.max_tokens > limit) {
    throw invalidRequest(
      `max_tokens: ${request.max_tokens} > ${limit}, which is the maximum allowed number of output tokens for ${request.model}`,
    );
  }
  checkPrompt(request);
  checkThinking(request.thinking, request.max_tokens);
  return request;
}

/**
 * Parses and checks a count_tokens body with the same rules as a Messages request.
 * @throws ApiError 400 `invalid_request_error`, or 404 `not_found_error` for an unknown model
 */
export function parseCountTokensRequest(
  body: unknown,
  models: ReadonlySet<string>,
): CountTokensRequest {
  const request = parseWith(CountTokensRequestSchema, body);
  checkModel(request, models);
  checkPrompt(request);
  checkThinking(request.thinking, undefined);
  return request;
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidRequest(describeIssue(parsed.error.issues[0]));
  return parsed.data;
}

function checkModel(request: { model: string }, models: ReadonlySet<string>): void {
  if (!models.has(request.model)) {
    throw new ApiError('not_found_error', `model: ${request.model}`);
  }
}

function checkPrompt(request: PromptRequest): void {
  checkContent(request);
  checkBlocks(request.messages);
  checkTools(request);
  checkToolTurns(request);
  checkCacheControl(request);
}

function describeIssue(found: z.core.$ZodIssue | undefined): string {
  if (!found) return 'Invalid request body';
  const issue = mostSpecific(found);
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    return `${where}${issue.keys[0]}: Extra inputs are not permitted`;
  }
  const message =
    issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
      ? 'Field required'
      : issue.message;
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${message}` : message;
}

/** For a union, the issue of the branch that got furthest, e.g. into a block's cache_control. */
function mostSpecific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const branches = issue.errors.flatMap((branch) => {
    const first = branch[0];
    if (!first) return [];
    const specific = mostSpecific(first);
    return [{ ...specific, path: [...issue.path, ...specific.path] }];
  });
  return branches.reduce<z.core.$ZodIssue>(
    (best, branch) => (branch.path.length > best.path.length ? branch : best),
    branches[0] ?? issue,
  );
}

function checkContent(request: PromptRequest): void {
  if (Array.isArray(request.system) && request.system.some((block) => block.text === '')) {
    throw invalidRequest('system: text content blocks must be non-empty');
  }
  if (Array.isArray(request.system) && request.system.some((block) => !/\S/.test(block.text))) {
    throw invalidRequest('system: text content blocks must contain non-whitespace text');
  }
  const last = request.messages.length - 1;
  request.messages.forEach((message, index) => {
    const isFinalAssistant = index === last && message.role === 'assistant';
    if (message.content.length === 0 && !isFinalAssistant) {
      throw invalidRequest(
        `messages.${index}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    if (isFinalAssistant && /\s$/.test(finalText(message.content))) {
      throw invalidRequest('messages: final assistant content cannot end with trailing whitespace');
    }
    if (typeof message.content === 'string') return;
    message.content.forEach((block, blockIndex) => {
      if (block.type !== 'text') return;
      if (block.text === undefined) {
        throw invalidRequest(`messages.${index}.content.${blockIndex}.text: Field required`);
      }
      if (block.text === '')
        throw invalidRequest('messages: text content blocks must be non-empty');
      if (!/\S/.test(block.text) && !isFinalAssistant) {
        throw invalidRequest('messages: text content blocks must contain non-whitespace text');
      }
    });
  });
}

function finalText(content: string | ContentBlock[]): string {
  if (typeof content === 'string') return content;
  return content.findLast((block) => block.type === 'text')?.text ?? '';
}

function checkCacheControl(request: PromptRequest): void {
  const ttls = breakpointTtls(request);
  if (ttls.length > MAX_CACHE_BREAKPOINTS) {
    throw invalidRequest(
      `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${ttls.length}.`,
    );
  }
  // The prompt-caching docs: entries with a longer TTL must come before shorter ones.
  const firstShort = ttls.indexOf('5m');
  if (firstShort !== -1 && ttls.indexOf('1h', firstShort) !== -1) {
    throw invalidRequest(
      "cache_control: a breakpoint with ttl '1h' must not come after one with ttl '5m'",
    );
  }
}

/** The TTL of every breakpoint in prompt order (tools, system, messages, then top-level). */
function breakpointTtls(request: PromptRequest): Array<'5m' | '1h'> {
  const controls: Array<CacheControl | null | undefined> = [
    ...(request.tools ?? []).map((tool) => tool.cache_control),
    ...(Array.isArray(request.system) ? request.system.map((block) => block.cache_control) : []),
    ...request.messages.flatMap((message) =>
      typeof message.content === 'string'
        ? []
        : message.content.map((block) => block.cache_control),
    ),
    request.cache_control,
  ];
  return controls.filter((control) => control != null).map((control) => control.ttl ?? '5m');
}
