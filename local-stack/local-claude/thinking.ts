import { createHash } from 'node:crypto';
import { invalidRequest } from './errors.js';
import type { ThinkingConfig } from './request-schema.js';

/** The smallest `budget_tokens` the API takes. */
export const MIN_THINKING_BUDGET_TOKENS = 1024;

/** Thinking words a reply starts with unless a `thinking-tokens` directive says otherwise. */
export const DEFAULT_THINKING_TOKENS = 12;

/**
 * The API's checks of `thinking`, in its words. `maxTokens` is undefined for count_tokens,
 * which has no output limit to compare the budget with.
 * @throws ApiError 400 `invalid_request_error`
 */
export function checkThinking(thinking: ThinkingConfig | undefined, maxTokens?: number): void {
  if (thinking?.type !== 'enabled') return;
  if (thinking.budget_tokens < MIN_THINKING_BUDGET_TOKENS) {
    throw invalidRequest(
      `thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET_TOKENS}`,
    );
  }
  if (maxTokens !== undefined && thinking.budget_tokens >= maxTokens) {
    throw invalidRequest(
      '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
    );
  }
}

/** Whether the request turns thinking on (`enabled` or `adaptive`), which brings the API's extra rules. */
export const thinkingIsOn = (thinking: ThinkingConfig | undefined) =>
  thinking?.type === 'enabled' || thinking?.type === 'adaptive';

/**
 * Whether this reply starts with a thinking block: always when thinking is on, and for
 * `between_tools` only right after tool results.
 */
export const thinksFirst = (thinking: ThinkingConfig | undefined, afterToolResults: boolean) =>
  thinkingIsOn(thinking) || (thinking?.type === 'between_tools' && afterToolResults);

/** Thinking tokens this reply may spend: the budget when one is set, never past `max_tokens`. */
export function thinkingAllowance(thinking: ThinkingConfig | undefined, maxTokens: number): number {
  return thinking?.type === 'enabled' ? Math.min(thinking.budget_tokens, maxTokens) : maxTokens;
}

/** Whether the thinking text is left out of the reply (the tokens are billed all the same). */
export const thinkingOmitted = (thinking: ThinkingConfig | undefined) =>
  (thinking?.type === 'enabled' || thinking?.type === 'adaptive') && thinking.display === 'omitted';

/**
 * A signature shaped like the API's (opaque base64). The local Claude never checks the
 * signatures it gets back: any string is accepted, as tests build histories by hand.
 */
export const thinkingSignature = (thinking: string) =>
  createHash('sha512').update(`local-claude thinking\n${thinking}`).digest('base64');
