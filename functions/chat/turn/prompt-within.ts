import type { ContextOverflow } from '../../../shared/domain/errors.js';
import { estimateTokens } from '../../../shared/domain/tokens.js';
import type { PromptBlock, PromptMessage } from '../../../shared/ports/model.js';

export interface Prompt {
  system: PromptBlock[];
  messages: PromptMessage[];
}

/** Room for the model's count spreading unevenly over messages: the ratio is an average. */
const MARGIN = 0.9;

/**
 * The prompt without as much of its oldest history as the model's own count says must go.
 * Our estimate (4 bytes a token) undercounts some text (CJK, emoji), so a history window it
 * filled can exceed the model's context; the model's count over our estimate of the whole
 * prompt scales what may stay, leaving room for the answer's `max_tokens`.
 * @returns undefined when no earlier message could be left out, or the system prompt and the
 *   question alone would not fit: asked again, the model would refuse it again
 */
export function promptWithin(
  prompt: Prompt,
  overflow: ContextOverflow,
  maxTokens: number,
): Prompt | undefined {
  const { system, messages } = prompt;
  const sizeOf = (blocks: readonly PromptBlock[]) =>
    blocks.reduce((sum, block) => sum + estimateTokens(block.text), 0);
  const sizes = messages.map((message) => sizeOf(message.blocks));
  const estimated = sizeOf(system) + sizes.reduce((sum, size) => sum + size, 0);
  const modelTokensPerEstimated = overflow.promptTokens / Math.max(1, estimated);
  const fits = ((overflow.contextTokens - maxTokens) * MARGIN) / modelTokensPerEstimated;
  // The question, and as many of the messages before it as fit, newest first.
  let from = messages.length - 1;
  let kept = sizeOf(system) + (sizes[from] ?? 0);
  if (from < 0 || kept > fits) return undefined;
  while (from > 0 && kept + sizes[from - 1]! <= fits) {
    from--;
    kept += sizes[from]!;
  }
  // The Messages API wants the first message from the user.
  while (messages[from]?.role !== 'user') from++;
  return from === 0 ? undefined : { system, messages: messages.slice(from) };
}
