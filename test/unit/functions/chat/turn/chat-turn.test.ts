import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../../../../functions/chat/turn/collect-answer.js';
import { promptBudget } from '../../../../../functions/chat/turn/prompt-budget.js';
import { estimateTokens, utf8Bytes } from '../../../../../shared/domain/tokens.js';
import type { Model } from '../../../../../shared/ports/model.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import {
  chatFixture,
  LIMITS,
  runToEnd,
  SONNET,
  streamedText,
  USER,
  usageOf,
  windowAt,
} from './support.js';

const textOf = (blocks: ReadonlyArray<{ text: string }>) => blocks.map((b) => b.text).join('');

/** The prompt's messages as [role, text] pairs. */
const sentMessages = (model: ScriptedModel, call: number) =>
  model.requests[call]!.messages.map((message) => [message.role, textOf(message.blocks)]);

describe('a chat turn that answers', () => {
  // A cached turn on Sonnet: 1200 x $3 + 3 x $15 + 15000 x $0.30 + 2000 x $3.75 per million tokens.
  const USAGE = usageOf({
    inputTokens: 1_200,
    outputTokens: 3,
    cacheReadInputTokens: 15_000,
    cacheCreationInputTokens: 2_000,
    cacheCreation1hInputTokens: 0,
  });
  const COST_NANO_USD = 15_645_000;
  const answering = () =>
    new ScriptedModel([{ kind: 'answer', chunks: ['Hello', ', ', 'Carol.'], usage: USAGE }]);

  it("streams start, each piece of text, then done with the answer's usage and exact cost", async () => {
    const f = chatFixture({ model: answering() });

    const { turn, events } = await f.chat({ message: 'Hi, I am Carol.' });

    expect(turn.conversationId).toMatch(/^conv_[a-f0-9]{32}$/);
    expect(events).toEqual([
      {
        type: 'start',
        conversationId: turn.conversationId,
        messageId: turn.messageId,
        model: SONNET,
      },
      { type: 'text', text: 'Hello' },
      { type: 'text', text: ', ' },
      { type: 'text', text: 'Carol.' },
      {
        type: 'done',
        messageId: turn.messageId,
        stopReason: 'end_turn',
        usage: USAGE,
        costNanoUsd: COST_NANO_USD,
      },
    ]);
  });

  it('stores the question and the answer, and frees the conversation', async () => {
    const f = chatFixture({ model: answering() });

    const { turn, events } = await f.chat({ message: 'Hi, I am Carol.' });

    expect(await f.messages(turn.conversationId)).toEqual([
      expect.objectContaining({ seq: 1, role: 'user', content: 'Hi, I am Carol.' }),
      expect.objectContaining({
        id: turn.messageId,
        seq: 2,
        role: 'assistant',
        content: streamedText(events),
        model: SONNET,
        stopReason: 'end_turn',
        usage: USAGE,
        costNanoUsd: COST_NANO_USD,
      }),
    ]);
    const conversation = await f.store.getConversation(USER, turn.conversationId);
    expect(conversation).toMatchObject({ title: 'Hi, I am Carol.', messageCount: 2 });
    expect(conversation?.activeTurn).toBeUndefined();
  });

  it('settles the exact cost in the ledger and corrects the rate window to the tokens used', async () => {
    const f = chatFixture({ model: answering() });

    await f.chat({ message: 'Hi, I am Carol.' });

    expect(await f.month()).toMatchObject({
      requests: 1,
      spentNanoUsd: COST_NANO_USD,
      heldNanoUsd: COST_NANO_USD,
      inputTokens: 1_200,
      outputTokens: 3,
    });
    expect(f.rateLimiter.countsOf(windowAt())).toEqual({
      requests: 1,
      tokens: 1_200 + 3 + 15_000 + 2_000,
    });
  });

  it('holds the worst case of the call while the answer streams', async () => {
    const f = chatFixture({ model: answering() });
    const message = 'Hi, I am Carol.';

    const turn = await f.start({ message });
    const held = (await f.month()).heldNanoUsd;
    await runToEnd(turn);

    const { promptMaxTokens } = promptBudget({ message, ...LIMITS });
    expect(held).toBe(f.prices.worstCaseNanoUsd(SONNET, promptMaxTokens, LIMITS.maxOutputTokens));
  });

  it('sends the earlier turns as history with the new question, and the system prompt', async () => {
    const f = chatFixture({
      model: new ScriptedModel([
        { kind: 'answer', chunks: ['Hello', ' Carol.'] },
        { kind: 'answer', chunks: ['Carol.'] },
      ]),
    });
    const first = await f.chat({ message: 'My name is Carol.', system: 'Be kind.' });

    await f.chat({
      conversationId: first.turn.conversationId,
      message: 'What is my name?',
      system: 'Be kind.',
    });

    expect(sentMessages(f.model, 1)).toEqual([
      ['user', 'My name is Carol.'],
      ['assistant', 'Hello Carol.'],
      ['user', 'What is my name?'],
    ]);
    expect(textOf(f.model.requests[1]!.system)).toBe('Be kind.');
  });

  it('sends the summary and only the messages it does not cover', async () => {
    const f = chatFixture({ model: new ScriptedModel(() => ({ kind: 'answer', chunks: ['ok'] })) });
    const { turn } = await f.chat({ message: 'first question' });
    const { conversationId } = turn;
    await f.chat({ conversationId, message: 'second question' });
    const { createdAt } = (await f.store.getConversation(USER, conversationId))!;
    await f.store.saveSummary(
      USER,
      conversationId,
      {
        text: 'They asked two questions.',
        throughSeq: 2,
        tokensCompacted: estimateTokens('first question') + estimateTokens('ok'),
      },
      { createdAt, summaryThroughSeq: 0, supersededRanges: [] },
    );

    await f.chat({ conversationId, message: 'third question' });

    expect(sentMessages(f.model, 2)).toEqual([
      ['user', 'second question'],
      ['assistant', 'ok'],
      ['user', 'third question'],
    ]);
    expect(textOf(f.model.requests[2]!.system)).toContain('They asked two questions.');
  });

  it('sends only the newest history that fits the context window, beginning with a question', async () => {
    const f = chatFixture({
      model: new ScriptedModel(() => ({ kind: 'answer', chunks: ['ok'] })),
      limits: { contextWindowTokens: 40 },
    });
    const { turn } = await f.chat({ message: 'a'.repeat(80) }); // 20 tokens
    const { conversationId } = turn;
    await f.chat({ conversationId, message: 'b'.repeat(40) }); // 10 tokens

    // 30 tokens left for history: both answers and the second question (12), not the first.
    await f.chat({ conversationId, message: 'c'.repeat(40) });

    expect(sentMessages(f.model, 2)).toEqual([
      ['user', 'b'.repeat(40)],
      ['assistant', 'ok'],
      ['user', 'c'.repeat(40)],
    ]);
  });

  it("uses the default model when none is named, and ends with the model's own stop reason", async () => {
    const f = chatFixture({ model: new ScriptedModel([{ kind: 'answer', chunks: 5 }]) });

    const { events } = await f.chat({ message: 'Count to five.', maxTokens: 2 });

    expect(f.model.requests[0]).toMatchObject({ model: SONNET, maxTokens: 2 });
    expect(streamedText(events)).toBe('word1 word2');
    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'max_tokens' });
  });

  it('caps maxTokens at the configured maximum', async () => {
    const f = chatFixture({ model: new ScriptedModel([{ kind: 'answer', chunks: 1 }]) });

    await f.chat({ message: 'Write a novel.', maxTokens: 1_000_000 });

    expect(f.model.requests[0]!.maxTokens).toBe(LIMITS.maxOutputTokens);
  });

  it('reports how the turn went to the observer, and waits for it before the last event', async () => {
    const f = chatFixture({ model: answering() });
    const turn = await f.start({ message: 'Hi, I am Carol.' });
    f.clock.advance(120); // the model took this long to send its first token

    const events = await runToEnd(turn, (event) => {
      f.observer.calls.push(`emit ${event.type}`);
      if (event.type === 'text') f.clock.advance(10);
    });

    expect(f.observer.calls).toEqual([
      'started',
      'emit start',
      'firstToken',
      'emit text',
      'emit text',
      'emit text',
      'ended',
      'emit done',
    ]);
    expect(f.observer.firstTokenLatenciesMs).toEqual([120]);
    expect(f.observer.summaries).toEqual([
      {
        conversationId: turn.conversationId,
        messageId: turn.messageId,
        model: SONNET,
        stopReason: 'end_turn',
        usage: USAGE,
        usageEstimated: false,
        costNanoUsd: COST_NANO_USD,
        counted: { usage: USAGE, costNanoUsd: COST_NANO_USD },
        latencyMs: 150,
      },
    ]);
    expect(events.at(-1)?.type).toBe('done');
  });
});

describe('a chat turn whose answer outgrows a message item', () => {
  it('ends as max_tokens at the most a message stores, shown as stored, and stops upstream (it could not be stored)', async () => {
    // Five chunks of 100,002 bytes (a character of 3 bytes): the fourth crosses the limit.
    const scripted = new ScriptedModel([
      { kind: 'answer', chunks: Array.from({ length: 5 }, () => '漢'.repeat(33_334)) },
    ]);
    const upstream = { pulled: 0, closed: false };
    /** The scripted stream, counting what the turn pulls from it and seeing it closed. */
    const watched = (model: ScriptedModel): Model => ({
      async openStream(request) {
        const stream = await model.openStream(request);
        return {
          ...stream,
          async *[Symbol.asyncIterator]() {
            try {
              for await (const event of stream) {
                if (event.type === 'text') upstream.pulled++;
                yield event;
              }
            } finally {
              upstream.closed = true;
            }
          },
        };
      },
      complete: (request) => model.complete(request),
    });
    const f = chatFixture({ model: scripted, wrapModel: watched });

    const { turn, events } = await f.chat({ message: 'Write a very long story.' });

    const shown = streamedText(events);
    expect(utf8Bytes(shown)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(utf8Bytes(shown)).toBeGreaterThan(MAX_ANSWER_BYTES - 3);
    expect(events.at(-1)).toMatchObject({ type: 'done', stopReason: 'max_tokens' });
    // Estimated from its text, but never past max_tokens, which is all Claude bills.
    expect(events.at(-1)).toMatchObject({ usage: { outputTokens: LIMITS.maxOutputTokens } });
    expect(upstream).toEqual({ pulled: 4, closed: true });
    const [, answer] = await f.messages(turn.conversationId);
    expect(answer).toMatchObject({ content: shown, stopReason: 'max_tokens' });
  });
});
