import type { PromptBlock, PromptMessage } from '../ports/model.js';
import type { StoredMessage } from './conversation.js';

export interface PromptInput {
  system?: string;
  /** Compacted older history, sent ahead of the recent messages. */
  summary?: string;
  /** Recent history, oldest first, already cut to the window. */
  history: readonly StoredMessage[];
  message: string;
}

/** How a conversation's summary is put before its recent messages. */
export function summaryBlockText(summary: string): string {
  return `Summary of the earlier conversation:\n${summary}`;
}

/**
 * Builds the prompt with prompt-cache breakpoints on the system prompt, on the
 * previous user message (where the last turn wrote its cache, so this turn reads it)
 * and on the new message (written for the next turn): 3 of the 4 allowed.
 */
export function buildPrompt(input: PromptInput): {
  system: PromptBlock[];
  messages: PromptMessage[];
} {
  const system: PromptBlock[] = [];
  // A system prompt of whitespace only says nothing, and the API refuses it.
  if (input.system && hasText(input.system)) system.push({ text: input.system });
  if (input.summary) {
    system.push({ text: summaryBlockText(input.summary) });
  }
  if (system.length > 0) system[system.length - 1] = { ...system.at(-1)!, cache: true };

  const messages: PromptMessage[] = withoutLeadingAnswers(
    // An answer cut before it said anything (empty, or only the whitespace it began with)
    // is not valid input: the API refuses text blocks without non-whitespace text.
    input.history.filter((message) => hasText(message.content)),
  ).map((message) => ({
    role: message.role,
    // A question stored with half an emoji (before turns made it U+FFFD) would have the
    // API refuse every later turn of its conversation.
    blocks: [{ text: message.content.toWellFormed() }],
  }));
  messages.push({ role: 'user', blocks: [{ text: input.message }] });

  const previousUser = messages.findLastIndex(
    (message, index) => message.role === 'user' && index < messages.length - 1,
  );
  for (const index of [previousUser, messages.length - 1]) {
    const message = messages[index];
    if (message) {
      message.blocks = message.blocks.map((block, i) =>
        i === message.blocks.length - 1 ? { ...block, cache: true } : block,
      );
    }
  }
  return { system, messages };
}

/** The Messages API wants the first message from the user. */
function withoutLeadingAnswers(history: readonly StoredMessage[]): readonly StoredMessage[] {
  const firstUser = history.findIndex((message) => message.role === 'user');
  return firstUser === -1 ? [] : history.slice(firstUser);
}

/** Whether a text block of it is one the API accepts: not empty, not only whitespace. */
function hasText(text: string): boolean {
  return /\S/.test(text);
}
