import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../../../shared/domain/errors.js';
import type { BeginTurn } from '../../../../../shared/ports/conversation-store.js';
import { InMemoryConversationStore } from '../../../../fakes/in-memory-conversation-store.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import { chatFixture, HAIKU, SONNET, streamedText } from './support.js';

const answering = () => new ScriptedModel(() => ({ kind: 'answer', chunks: ['The ', 'answer.'] }));

describe('a chat turn and the response cache', () => {
  it('answers a repeated first question from the cache: no model call, free, stored all the same', async () => {
    const f = chatFixture({ model: answering(), cacheTtlSeconds: 60 });
    const first = await f.chat({ message: 'What is the answer?' });
    const spent = await f.month();

    const second = await f.chat({ message: 'What is the answer?' });

    expect([first.turn.cache, second.turn.cache]).toEqual(['miss', 'hit']);
    expect(f.model.requests).toHaveLength(1);
    expect(streamedText(second.events)).toBe(streamedText(first.events));
    expect(second.events.at(-1)).toMatchObject({ type: 'done', costNanoUsd: 0 });
    expect(await f.month()).toEqual(spent);
    expect(await f.messages(second.turn.conversationId)).toMatchObject([
      { role: 'user', content: 'What is the answer?' },
      { role: 'assistant', content: 'The answer.', costNanoUsd: 0 },
    ]);
    expect(f.usageRecords.recorded.map((record) => [record.api, record.cacheHit])).toEqual([
      ['chat', false],
      ['chat', true],
    ]);
  });

  it('records nothing for a replay whose question could not be stored (a second first message to one chat id)', async () => {
    const store = new (class extends InMemoryConversationStore {
      refuse = false;
      override async beginTurn(turn: BeginTurn): Promise<number> {
        if (this.refuse) throw new ConflictError('another turn is under way in this conversation');
        return super.beginTurn(turn);
      }
    })();
    const f = chatFixture({ model: answering(), cacheTtlSeconds: 60, store });
    await f.chat({ message: 'What is the answer?' });
    store.refuse = true;

    await expect(f.start({ message: 'What is the answer?' })).rejects.toThrow(ConflictError);

    expect(f.model.requests).toHaveLength(1);
    expect(f.usageRecords.recorded).toHaveLength(1);
  });

  it('never answers a turn of an existing conversation from the cache', async () => {
    const f = chatFixture({ model: answering(), cacheTtlSeconds: 60 });
    const { turn } = await f.chat({ message: 'Hello' });

    const next = await f.chat({ message: 'Hello', conversationId: turn.conversationId });

    expect(next.turn.cache).toBe('off');
    expect(f.model.requests).toHaveLength(2);
  });

  it('keeps only whole answers', async () => {
    const model = new ScriptedModel([
      { kind: 'fail-mid', chunks: ['Half'], error: 'overloaded' },
      { kind: 'answer', chunks: ['Whole.'] },
    ]);
    const f = chatFixture({ model, cacheTtlSeconds: 60 });
    await f.chat({ message: 'Tell me' });

    const second = await f.chat({ message: 'Tell me' });
    const third = await f.chat({ message: 'Tell me' });

    expect([second.turn.cache, third.turn.cache]).toEqual(['miss', 'hit']);
    expect(streamedText(third.events)).toBe('Whole.');
  });

  it("does not keep the fallback model's answer under the requested model's key", async () => {
    const model = new ScriptedModel([
      { kind: 'fail-before', error: 'overloaded' },
      { kind: 'answer', chunks: ['From the fallback.'] },
      { kind: 'answer', chunks: ['From the model asked for.'] },
    ]);
    const f = chatFixture({ model, cacheTtlSeconds: 60 });
    const first = await f.chat({ message: 'Tell me' });

    const second = await f.chat({ message: 'Tell me' });
    const third = await f.chat({ message: 'Tell me' });

    expect(first.turn.model).toBe(HAIKU);
    expect([second.turn.cache, third.turn.cache]).toEqual(['miss', 'hit']);
    expect(third.turn.model).toBe(SONNET);
    expect(streamedText(third.events)).toBe('From the model asked for.');
  });

  it('keys on everything that shapes the answer: model, system prompt, maxTokens, the question', async () => {
    const f = chatFixture({ model: answering(), cacheTtlSeconds: 60 });
    await f.chat({ message: 'Q' });

    const variants = await Promise.all([
      f.chat({ message: 'Q', system: 'Be terse.' }),
      f.chat({ message: 'Q', maxTokens: 7 }),
      f.chat({ message: 'Q ' }),
    ]);

    expect(variants.map(({ turn }) => turn.cache)).toEqual(['miss', 'miss', 'miss']);
  });

  it('skips the cache when asked (no-store), and refreshes it (no-cache)', async () => {
    const f = chatFixture({ model: answering(), cacheTtlSeconds: 60 });
    await f.chat({ message: 'Fresh?' });

    const bypass = await f.chat({ message: 'Fresh?', cache: 'bypass' });
    const refresh = await f.chat({ message: 'Fresh?', cache: 'refresh' });

    expect([bypass.turn.cache, refresh.turn.cache]).toEqual(['bypass', 'refresh']);
    expect(f.model.requests).toHaveLength(3);
    expect(f.responseCache.puts).toHaveLength(2);
  });

  it('is off unless the setting gives it a TTL', async () => {
    const f = chatFixture({ model: answering() });
    await f.chat({ message: 'Q' });

    const again = await f.chat({ message: 'Q' });

    expect(again.turn.cache).toBe('off');
    expect(f.responseCache.gets).toHaveLength(0);
  });
});
