import Anthropic from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsNonStreaming,
  TextBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import type { PromptSegment } from '../../../local-stack/local-claude/prompt.js';
import { PromptCache } from '../../../local-stack/local-claude/prompt-cache.js';

const MODEL = 'claude-opus-4-6';
const cached = (text: string, ttl?: '5m' | '1h'): TextBlockParam => ({
  type: 'text',
  text,
  cache_control: { type: 'ephemeral', ...(ttl && { ttl }) },
});
/** A text of exactly `tokens` estimated tokens, distinct per `seed`. */
const textOf = (tokens: number, seed: string) => seed.padEnd(tokens * 4, '.');

describe('local Claude prompt caching', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({
      timeToFirstTokenMs: 0,
      tokensPerSecond: 0,
      minCacheableTokens: 100,
    });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const usageOf = async (params: Omit<MessageCreateParamsNonStreaming, 'model' | 'max_tokens'>) =>
    (await client.messages.create({ model: MODEL, max_tokens: 5, ...params })).usage;

  it('writes the prefix on the first call and reads it on the second', async () => {
    const request = {
      system: [cached(textOf(150, 'system-a'))],
      messages: [{ role: 'user' as const, content: textOf(10, 'question-a') }],
    };

    const first = await usageOf(request);
    const second = await usageOf(request);

    expect(first).toMatchObject({
      cache_creation_input_tokens: 150,
      cache_read_input_tokens: 0,
      input_tokens: 10,
      cache_creation: { ephemeral_5m_input_tokens: 150, ephemeral_1h_input_tokens: 0 },
    });
    expect(second).toMatchObject({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 150,
      input_tokens: 10,
    });
  });

  it('reads the cached conversation and writes only the new turn', async () => {
    const system = [cached(textOf(120, 'system-b'))];
    const turn1 = { role: 'user' as const, content: [cached(textOf(20, 'turn-1'))] };
    await usageOf({ system, messages: [turn1] });

    const usage = await usageOf({
      system,
      messages: [
        { role: 'user', content: [{ type: 'text', text: textOf(20, 'turn-1') }] },
        { role: 'assistant', content: textOf(30, 'answer-1') },
        { role: 'user', content: [cached(textOf(5, 'turn-2'))] },
      ],
    });

    expect(usage).toMatchObject({
      cache_read_input_tokens: 140,
      cache_creation_input_tokens: 35,
      input_tokens: 0,
    });
  });

  it('neither reads nor writes a prefix shorter than the minimum', async () => {
    const request = {
      system: [cached(textOf(99, 'system-c'))],
      messages: [{ role: 'user' as const, content: 'hi' }],
    };

    const first = await usageOf(request);
    const second = await usageOf(request);

    for (const usage of [first, second]) {
      expect(usage).toMatchObject({
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        input_tokens: 100,
      });
    }
  });

  it('reports zero cache tokens without cache_control', async () => {
    const request = {
      system: textOf(200, 'system-d'),
      messages: [{ role: 'user' as const, content: 'hi' }],
    };

    await usageOf(request);
    const usage = await usageOf(request);

    expect(usage).toMatchObject({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      input_tokens: 201,
    });
  });

  it('keeps the cache apart per model', async () => {
    const request = {
      system: [cached(textOf(150, 'system-e'))],
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    await usageOf(request);

    const other = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 5,
      ...request,
    });

    expect(other.usage).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 150,
    });
  });

  it('counts 1h breakpoints apart from 5m ones', async () => {
    const usage = await usageOf({
      system: [cached(textOf(150, 'system-f'), '1h'), cached(textOf(50, 'rules-f'))],
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(usage.cache_creation).toEqual({
      ephemeral_1h_input_tokens: 150,
      ephemeral_5m_input_tokens: 50,
    });
    expect(usage.cache_creation_input_tokens).toBe(200);
  });

  it('caches up to the last block with top-level cache_control', async () => {
    const request = {
      cache_control: { type: 'ephemeral' as const },
      system: textOf(100, 'system-g'),
      messages: [{ role: 'user' as const, content: textOf(20, 'question-g') }],
    };

    const first = await usageOf(request);
    const second = await usageOf(request);

    expect(first).toMatchObject({ cache_creation_input_tokens: 120, input_tokens: 0 });
    expect(second).toMatchObject({ cache_read_input_tokens: 120, input_tokens: 0 });
  });

  it('adds input, cache read and cache creation up to the whole prompt', async () => {
    const uncached = await usageOf({
      system: textOf(130, 'system-h') + textOf(40, 'rules-h'),
      messages: [{ role: 'user', content: textOf(30, 'question-h') }],
    });
    const split = await usageOf({
      system: [cached(textOf(130, 'system-h')), { type: 'text', text: textOf(40, 'rules-h') }],
      messages: [{ role: 'user', content: textOf(30, 'question-h') }],
    });

    expect(
      split.input_tokens + split.cache_read_input_tokens! + split.cache_creation_input_tokens!,
    ).toBe(uncached.input_tokens);
  });

  it('rejects more than four cache breakpoints', async () => {
    const five = Array.from({ length: 5 }, (_, index) => cached(`block ${index}`));

    await expect(
      usageOf({ system: five, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: expect.stringContaining('A maximum of 4 blocks with cache_control'),
    });
  });

  it('rejects a 1h breakpoint after a 5m one', async () => {
    const request = {
      system: [cached('first'), cached('second', '1h')],
      messages: [{ role: 'user' as const, content: 'hi' }],
    };

    await expect(usageOf(request)).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
    });
  });
});

describe('PromptCache', () => {
  const segment = (
    tokens: number,
    prefixHash: string,
    breakpointTtl?: '5m' | '1h',
  ): PromptSegment => ({
    tokens,
    prefixHash,
    ...(breakpointTtl && { breakpointTtl }),
  });

  it('forgets a prefix after its TTL and keeps it while hits refresh it', () => {
    let now = 0;
    const cache = new PromptCache(1, () => now);
    const prompt = [segment(10, 'a', '5m'), segment(2, 'b')];

    cache.apply('m', prompt);
    now += 4 * 60_000;
    expect(cache.apply('m', prompt).cacheReadInputTokens).toBe(10);
    now += 4 * 60_000;
    expect(cache.apply('m', prompt).cacheReadInputTokens).toBe(10);
    now += 5 * 60_000;
    expect(cache.apply('m', prompt)).toMatchObject({
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 10,
    });
  });

  it('finds a cached prefix up to 20 blocks before a breakpoint, and no further', () => {
    const blocks = Array.from({ length: 30 }, (_, index) => segment(1, `h${index}`));
    const breakpointAt = (at: number) =>
      blocks.map((block, index) =>
        index === at ? { ...block, breakpointTtl: '5m' as const } : block,
      );
    const cacheWithPrefixOf6 = () => {
      const cache = new PromptCache(1);
      cache.apply('m', breakpointAt(5));
      return cache;
    };

    expect(cacheWithPrefixOf6().apply('m', breakpointAt(24)).cacheReadInputTokens).toBe(6);
    expect(cacheWithPrefixOf6().apply('m', breakpointAt(25)).cacheReadInputTokens).toBe(0);
  });
});
