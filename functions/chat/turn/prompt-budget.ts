import type { Conversation } from '../../../shared/domain/conversation.js';
import { summaryBlockText } from '../../../shared/domain/prompt.js';
import { estimateTokens, maxTokensOf } from '../../../shared/domain/tokens.js';

/** Bytes per estimated token: estimates are ceil(bytes / 4), so bytes <= 4 x estimate. */
const MAX_BYTES_PER_ESTIMATED_TOKEN = 4;
/** Framing tokens per message, as maxTokensOf counts them. */
const FRAMING_TOKENS_PER_MESSAGE = 8;

export interface PromptBudget {
  /** Estimated tokens of history that fit in the window next to the fixed parts. */
  historyTokens: number;
  /** The typical-case estimate of the prompt, for the rate limit. */
  promptTokens: number;
  /** A guaranteed upper bound of the prompt's tokens, for the budget reservation. */
  promptMaxTokens: number;
}

/**
 * Sizes a turn's prompt before its history is loaded (admission runs in parallel with
 * loading it), so the bound uses the conversation's own count of uncompacted tokens.
 */
export function promptBudget(input: {
  message: string;
  system?: string;
  conversation?: Conversation;
  contextWindowTokens: number;
}): PromptBudget {
  const { conversation } = input;
  const summary = conversation?.summary ? summaryBlockText(conversation.summary.text) : '';
  const fixedTexts = [input.message, input.system ?? '', summary];
  const fixedTokens = fixedTexts.reduce((sum, text) => sum + estimateTokens(text), 0);
  const historyTokens = Math.max(0, input.contextWindowTokens - fixedTokens);
  // Never below 0: a count a bug drove negative must not turn every later turn into a 500.
  const historyBound = Math.max(0, Math.min(conversation?.uncompactedTokens ?? 0, historyTokens));
  return {
    historyTokens,
    promptTokens: fixedTokens + historyBound,
    promptMaxTokens:
      maxTokensOf(fixedTexts) +
      MAX_BYTES_PER_ESTIMATED_TOKEN * historyBound +
      FRAMING_TOKENS_PER_MESSAGE * (conversation?.messageCount ?? 0),
  };
}
