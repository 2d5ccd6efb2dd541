import { describe, expect, it } from 'vitest';
import { responseCacheContract } from '../../contracts/response-cache.contract.js';
import { InMemoryResponseCache } from '../../fakes/in-memory-response-cache.js';

describe('InMemoryResponseCache', () => {
  responseCacheContract(async () => new InMemoryResponseCache());

  it('records every get and put it received, in order', async () => {
    const cache = new InMemoryResponseCache();
    const answer = {
      format: 'json' as const,
      body: '{}',
      model: 'claude-haiku-4-5',
      stopReason: 'end_turn',
      usage: {
        inputTokens: 1,
        outputTokens: 1,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
    };

    await cache.get('a', 1_000);
    await cache.put('a', answer, { ttlSeconds: 60, nowMs: 2_000 });
    await cache.get('a', 3_000);

    expect(cache.gets).toEqual([
      { key: 'a', nowMs: 1_000 },
      { key: 'a', nowMs: 3_000 },
    ]);
    expect(cache.puts).toEqual([
      { key: 'a', response: answer, options: { ttlSeconds: 60, nowMs: 2_000 } },
    ]);
  });
});
