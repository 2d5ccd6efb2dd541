import { describe, expect, it } from 'vitest';
import { promptWithin } from '../../../../../functions/chat/turn/prompt-within.js';
import type { PromptMessage } from '../../../../../shared/ports/model.js';

/** A message of `tokens` estimated tokens (4 ASCII bytes each). */
const message = (role: PromptMessage['role'], tokens: number, tag: string): PromptMessage => ({
  role,
  blocks: [{ text: tag.padEnd(tokens * 4, '.') }],
});
const tagsOf = (messages: readonly PromptMessage[]) =>
  messages.map((each) => each.blocks[0]!.text.replace(/\.+$/, ''));

/** Three earlier turns of 100 + 100 estimated tokens, then a 50-token question. */
const HISTORY = [
  message('user', 100, 'q1'),
  message('assistant', 100, 'a1'),
  message('user', 100, 'q2'),
  message('assistant', 100, 'a2'),
  message('user', 100, 'q3'),
  message('assistant', 100, 'a3'),
  message('user', 50, 'question'),
];
const SYSTEM = [{ text: 'system'.padEnd(40, '.') }];
/** The prompt as estimated: 650 tokens of messages and 10 of system prompt. */
const ESTIMATED = 660;

describe('promptWithin', () => {
  it('leaves out the oldest turns, by the ratio of the model count to the estimate, keeping room for the answer', () => {
    // The model counted 3 tokens per estimated one: 1,980 against a window of 1,800, of which
    // 200 are the answer's. 90% of 1,600 model tokens is 480 estimated: up to q2, not a1.
    const shorter = promptWithin(
      { system: SYSTEM, messages: HISTORY },
      { promptTokens: ESTIMATED * 3, contextTokens: 1_800 },
      200,
    );

    expect(shorter?.system).toBe(SYSTEM);
    expect(tagsOf(shorter!.messages)).toEqual(['q2', 'a2', 'q3', 'a3', 'question']);
  });

  it('starts with a question even where an answer would still fit before it', () => {
    // 460 estimated tokens fit: a2 would, q2 would not.
    const shorter = promptWithin(
      { system: SYSTEM, messages: HISTORY },
      { promptTokens: ESTIMATED * 2, contextTokens: 1_000 + 22 },
      0,
    );

    expect(tagsOf(shorter!.messages)).toEqual(['q3', 'a3', 'question']);
  });

  it('keeps the messages themselves, their cache breakpoints included', () => {
    const marked = HISTORY.map((each, i) =>
      i === 4 ? { ...each, blocks: [{ ...each.blocks[0]!, cache: true }] } : each,
    );

    const shorter = promptWithin(
      { system: SYSTEM, messages: marked },
      { promptTokens: ESTIMATED * 3, contextTokens: 1_500 },
      200,
    );

    expect(shorter!.messages).toEqual(marked.slice(4));
  });

  it('gives nothing when the question alone, with the system prompt, would not fit', () => {
    expect(
      promptWithin(
        { system: SYSTEM, messages: HISTORY },
        { promptTokens: ESTIMATED * 10, contextTokens: 600 },
        0,
      ),
    ).toBeUndefined();
  });

  it('gives nothing when there is no earlier message to leave out', () => {
    expect(
      promptWithin(
        { system: [], messages: [message('user', 50, 'question')] },
        { promptTokens: 215_000, contextTokens: 200_000 },
        0,
      ),
    ).toBeUndefined();
  });

  it('gives nothing when the answer alone takes the window', () => {
    expect(
      promptWithin(
        { system: SYSTEM, messages: HISTORY },
        { promptTokens: 1_000, contextTokens: 800 },
        800,
      ),
    ).toBeUndefined();
  });
});
