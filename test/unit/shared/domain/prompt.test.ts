import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../../../shared/domain/conversation.js';
import { buildPrompt } from '../../../../shared/domain/prompt.js';

const message = (seq: number, role: 'user' | 'assistant', content: string): StoredMessage => ({
  id: `m${seq}`,
  seq,
  role,
  content,
  createdAt: '2026-11-01T00:00:00.000Z',
});

describe('buildPrompt', () => {
  it('puts a cache breakpoint on the system prompt and on the new message of a first turn', () => {
    const prompt = buildPrompt({ system: 'Be brief.', history: [], message: 'Hello' });
    expect(prompt.system).toEqual([{ text: 'Be brief.', cache: true }]);
    expect(prompt.messages).toEqual([{ role: 'user', blocks: [{ text: 'Hello', cache: true }] }]);
  });

  it('marks the previous question too, so this turn reads the cache the last one wrote', () => {
    const history = [message(1, 'user', 'Q1'), message(2, 'assistant', 'A1')];
    const prompt = buildPrompt({ history, message: 'Q2' });
    expect(
      prompt.messages.map((m) => [m.role, m.blocks[0]?.text, m.blocks[0]?.cache ?? false]),
    ).toEqual([
      ['user', 'Q1', true],
      ['assistant', 'A1', false],
      ['user', 'Q2', true],
    ]);
    const breakpoints = [...prompt.system, ...prompt.messages.flatMap((m) => m.blocks)].filter(
      (b) => b.cache,
    );
    expect(breakpoints.length).toBeLessThanOrEqual(4);
  });

  it('skips empty answers of failed turns and never starts with an answer', () => {
    const history = [
      message(2, 'assistant', 'orphan'),
      message(3, 'user', 'Q1'),
      message(4, 'assistant', ''),
    ];
    const prompt = buildPrompt({ history, message: 'Q2' });
    expect(prompt.messages.map((m) => m.blocks[0]?.text)).toEqual(['Q1', 'Q2']);
  });

  it('skips answers cut before they said anything but whitespace, which the API refuses', () => {
    const history = [
      message(1, 'user', 'Q1'),
      message(2, 'assistant', '\n\n'),
      message(3, 'user', 'Q2'),
      message(4, 'assistant', ' A2'),
    ];
    const prompt = buildPrompt({ history, message: 'Q3' });
    expect(prompt.messages.map((m) => m.blocks[0]?.text)).toEqual(['Q1', 'Q2', ' A2', 'Q3']);
  });

  it('sends half an emoji stored in the history as U+FFFD, which the API takes', () => {
    const history = [message(1, 'user', `cut ${'😀'.slice(0, 1)}`), message(2, 'assistant', 'A1')];
    const prompt = buildPrompt({ history, message: 'Q2' });
    expect(prompt.messages[0]?.blocks[0]?.text).toBe('cut \uFFFD');
  });

  it('leaves out a system prompt of whitespace only, which the API refuses', () => {
    const prompt = buildPrompt({ system: ' \n', history: [], message: 'Q' });
    expect(prompt.system).toEqual([]);
  });

  it('sends the compacted summary ahead of the recent history, in the cached system prefix', () => {
    const prompt = buildPrompt({
      system: 'S',
      summary: 'They agreed on X.',
      history: [],
      message: 'Q',
    });
    expect(prompt.system.map((b) => b.text)).toEqual([
      'S',
      'Summary of the earlier conversation:\nThey agreed on X.',
    ]);
    expect(prompt.system.map((b) => b.cache ?? false)).toEqual([false, true]);
  });
});
