import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { promptBudget } from '../../../../../functions/chat/turn/prompt-budget.js';
import type { Conversation, StoredMessage } from '../../../../../shared/domain/conversation.js';
import { buildPrompt, summaryBlockText } from '../../../../../shared/domain/prompt.js';
import { estimateTokens, maxTokensOf } from '../../../../../shared/domain/tokens.js';

const WINDOW_TOKENS = 1_000;

/** Characters of every UTF-8 width: 1, 2, 3 and 4 bytes. */
const character = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xd7ff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((codePoint) => String.fromCodePoint(codePoint));
const text = (maxLength: number) => fc.string({ unit: character, maxLength });

function conversation(fields: Partial<Conversation> = {}): Conversation {
  return {
    id: `conv_${'c'.repeat(32)}`,
    userId: 'alice',
    title: 'a conversation',
    createdAt: '2026-11-15T10:00:00.000Z',
    updatedAt: '2026-11-15T10:00:00.000Z',
    lastSeq: 0,
    messageCount: 0,
    uncompactedTokens: 0,
    ...fields,
  };
}

describe('promptBudget', () => {
  it('gives the history what the window leaves next to the message, system prompt and summary', () => {
    const budget = promptBudget({
      message: 'm'.repeat(400), // 100 tokens
      system: 's'.repeat(200), // 50 tokens
      conversation: conversation({ summary: { text: 'u'.repeat(100), throughSeq: 4 } }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    // The summary counts as it is sent: with its heading.
    const summaryTokens = estimateTokens(summaryBlockText('u'.repeat(100)));
    expect(budget.historyTokens).toBe(WINDOW_TOKENS - 150 - summaryTokens);
  });

  it('gives the history nothing when the message alone fills the window', () => {
    const budget = promptBudget({
      message: 'm'.repeat(8_000), // 2000 tokens
      conversation: conversation({ uncompactedTokens: 500, messageCount: 4 }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    expect(budget.historyTokens).toBe(0);
    expect(budget.promptTokens).toBe(2_000);
  });

  it('counts no more history than the conversation has', () => {
    const budget = promptBudget({
      message: 'm'.repeat(400),
      conversation: conversation({ uncompactedTokens: 300, messageCount: 6 }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    expect(budget.promptTokens).toBe(100 + 300);
  });

  it('counts no history, never less, for a conversation whose count went below zero', () => {
    const budget = promptBudget({
      message: 'm'.repeat(400),
      conversation: conversation({ uncompactedTokens: -7_458, messageCount: 6 }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    expect(budget.promptTokens).toBe(100);
    expect(budget.promptMaxTokens).toBeGreaterThanOrEqual(400);
  });

  it('counts no more history than fits the window', () => {
    const budget = promptBudget({
      message: 'm'.repeat(400),
      conversation: conversation({ uncompactedTokens: 50_000, messageCount: 90 }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    expect(budget.promptTokens).toBe(WINDOW_TOKENS);
  });

  it('bounds the history at 4 bytes per estimated token, plus framing for each message', () => {
    const fixed = { message: 'm'.repeat(400), system: 'be brief' };
    const withoutHistory = promptBudget({ ...fixed, contextWindowTokens: WINDOW_TOKENS });

    const budget = promptBudget({
      ...fixed,
      conversation: conversation({ uncompactedTokens: 300, messageCount: 6 }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    expect(withoutHistory.promptMaxTokens).toBe(maxTokensOf([fixed.message, fixed.system, '']));
    expect(budget.promptMaxTokens).toBe(withoutHistory.promptMaxTokens + 4 * 300 + 8 * 6);
  });

  it('counts the summary in the bound as the prompt sends it, with its heading', () => {
    const summary = 'They talked about cats.';
    const message = 'And dogs?';

    const budget = promptBudget({
      message,
      conversation: conversation({ summary: { text: summary, throughSeq: 2 } }),
      contextWindowTokens: WINDOW_TOKENS,
    });

    const prompt = buildPrompt({ summary, history: [], message });
    const sentTexts = [...prompt.system, ...prompt.messages.flatMap((m) => m.blocks)].map(
      (block) => block.text,
    );
    expect(budget.promptMaxTokens).toBeGreaterThanOrEqual(maxTokensOf(sentTexts));
  });

  it('bounds the tokens of the prompt the turn sends, whatever its text, at one per byte plus framing', () => {
    fc.assert(
      fc.property(
        fc.record({
          message: text(200).filter((message) => message.length > 0),
          system: text(100),
          summary: text(100),
          history: fc.array(text(120), { maxLength: 12 }),
          contextWindowTokens: fc.integer({ min: 1, max: 400 }),
        }),
        ({ message, system, summary, history, contextWindowTokens }) => {
          const stored = history.map((content, i) => storedMessage(content, i + 1));
          const existing = conversation({
            ...(summary && { summary: { text: summary, throughSeq: 0 } }),
            messageCount: stored.length,
            uncompactedTokens: stored.reduce((sum, m) => sum + estimateTokens(m.content), 0),
          });

          const budget = promptBudget({
            message,
            system,
            conversation: existing,
            contextWindowTokens,
          });

          const prompt = buildPrompt({
            system,
            summary,
            history: newestWithin(stored, budget.historyTokens),
            message,
          });
          const sentTexts = [...prompt.system, ...prompt.messages.flatMap((m) => m.blocks)].map(
            (block) => block.text,
          );
          expect(budget.promptMaxTokens).toBeGreaterThanOrEqual(maxTokensOf(sentTexts));
          expect(budget.promptTokens).toBeLessThanOrEqual(budget.promptMaxTokens);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function storedMessage(content: string, seq: number): StoredMessage {
  return {
    id: `msg_${seq}`,
    seq,
    role: seq % 2 === 1 ? 'user' : 'assistant',
    content,
    createdAt: '2026-11-15T10:00:00.000Z',
  };
}

/** The newest messages whose estimates fit `maxTokens`, oldest first, as the store returns them. */
function newestWithin(messages: readonly StoredMessage[], maxTokens: number): StoredMessage[] {
  const kept: StoredMessage[] = [];
  let tokens = 0;
  for (const message of [...messages].reverse()) {
    tokens += estimateTokens(message.content);
    if (tokens > maxTokens) break;
    kept.unshift(message);
  }
  return kept;
}
