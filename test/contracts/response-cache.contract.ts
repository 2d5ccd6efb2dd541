import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CachedResponse, ResponseCache } from '../../shared/ports/response-cache.js';

/** 10:00:00 UTC: whole seconds, so expiry falls exactly at T0 + ttl. */
const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const TTL_SECONDS = 3_600;

const newKey = () => randomBytes(32).toString('hex');

const sseEvent = (type: string, data: object) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** Multi-byte text: accents, CJK, an emoji with a skin tone and a ZWJ family, controls. */
const UNICODE_TEXT = 'Déjà vu — 漢字かな 🙂👍🏽 👩‍👩‍👧 \u0001\u001f\u007f\u00a0\u200b\ufeff é';

function sseAnswer(overrides: Partial<CachedResponse> = {}): CachedResponse {
  const body = [
    sseEvent('message_start', { message: { id: 'msg_01', model: 'claude-sonnet-4-5' } }),
    sseEvent('content_block_delta', {
      index: 0,
      delta: { type: 'text_delta', text: UNICODE_TEXT },
    }),
    sseEvent('message_stop', {}),
  ].join('');
  return {
    format: 'sse',
    body,
    model: 'claude-sonnet-4-5',
    stopReason: 'end_turn',
    usage: {
      inputTokens: 1_200,
      outputTokens: 85,
      cacheReadInputTokens: 1_024,
      cacheCreationInputTokens: 0,
    },
    ...overrides,
  };
}

function jsonAnswer(overrides: Partial<CachedResponse> = {}): CachedResponse {
  return {
    format: 'json',
    body: `${JSON.stringify({ id: 'msg_02', content: [{ type: 'text', text: UNICODE_TEXT }] })}\n`,
    model: 'claude-haiku-4-5',
    stopReason: 'max_tokens',
    usage: {
      inputTokens: 40,
      outputTokens: 4_096,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 2_048,
      cacheCreation1hInputTokens: 1_024,
    },
    ...overrides,
  };
}

/** 3 MB of random base64: brotli barely shrinks it, so it needs many parts. */
const largeBody = () =>
  `${UNICODE_TEXT}${randomBytes(2_250_000).toString('base64')}${UNICODE_TEXT}`;

const options = (nowMs = T0, ttlSeconds = TTL_SECONDS) => ({ ttlSeconds, nowMs });

/**
 * The ResponseCache port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * Every test works on keys of its own, so one cache can serve the whole suite.
 */
export function responseCacheContract(subject: () => Promise<ResponseCache>) {
  let cache: ResponseCache;
  let key: string;
  beforeEach(async () => {
    cache = await subject();
    key = newKey();
  });

  describe('round trip', () => {
    it('replays an SSE answer byte for byte, with its model, stop reason and usage', async () => {
      const answer = sseAnswer();

      await cache.put(key, answer, options());

      expect(await cache.get(key, T0 + 1_000)).toEqual(answer);
    });

    it('replays a JSON answer, its 1-hour cache writes included', async () => {
      const answer = jsonAnswer();

      await cache.put(key, answer, options());

      expect(await cache.get(key, T0)).toEqual(answer);
    });

    it('replays a chat answer kept as plain text', async () => {
      const answer = jsonAnswer({ format: 'text', body: UNICODE_TEXT, stopReason: 'end_turn' });

      await cache.put(key, answer, options());

      expect(await cache.get(key, T0)).toEqual(answer);
    });

    it('replays an empty body', async () => {
      await cache.put(key, jsonAnswer({ body: '' }), options());

      expect((await cache.get(key, T0))?.body).toBe('');
    });

    it('replays a 3 MB answer that needs many parts exactly', async () => {
      const answer = sseAnswer({ body: largeBody() });

      await cache.put(key, answer, options());

      const replayed = await cache.get(key, T0);
      expect(replayed?.body.length).toBe(answer.body.length);
      expect(replayed?.body === answer.body).toBe(true);
    });

    it('replays a lone surrogate as U+FFFD, as UTF-8 carries it', async () => {
      await cache.put(key, jsonAnswer({ body: 'a\ud800b\udc00c' }), options());

      expect((await cache.get(key, T0))?.body).toBe('a\ufffdb\ufffdc');
    });

    it('hands out copies: changing what was put or what was read changes nothing stored', async () => {
      const answer = jsonAnswer();
      await cache.put(key, answer, options());
      answer.usage.outputTokens = 1;

      const first = await cache.get(key, T0);
      if (first) first.usage.inputTokens = 2;

      expect(await cache.get(key, T0)).toEqual(jsonAnswer());
    });
  });

  describe('misses', () => {
    it('misses a key that was never stored', async () => {
      await cache.put(key, sseAnswer(), options());

      expect(await cache.get(newKey(), T0)).toBeUndefined();
    });

    it('keeps the entries of different keys apart', async () => {
      const other = newKey();

      await cache.put(key, sseAnswer(), options());
      await cache.put(other, jsonAnswer(), options());

      expect(await cache.get(key, T0)).toEqual(sseAnswer());
      expect(await cache.get(other, T0)).toEqual(jsonAnswer());
    });

    it('hits until the TTL runs out and misses from that moment on', async () => {
      await cache.put(key, sseAnswer(), options(T0, 60));

      expect(await cache.get(key, T0 + 59_999)).toEqual(sseAnswer());
      expect(await cache.get(key, T0 + 60_000)).toBeUndefined();
      expect(await cache.get(key, T0 + 86_400_000)).toBeUndefined();
    });
  });

  describe('delete', () => {
    it('misses a deleted entry, many parts and all, and leaves other keys be', async () => {
      const other = newKey();
      await cache.put(key, sseAnswer({ body: largeBody() }), options());
      await cache.put(other, jsonAnswer(), options());

      await cache.delete(key);

      expect(await cache.get(key, T0)).toBeUndefined();
      expect(await cache.get(other, T0)).toEqual(jsonAnswer());
    });

    it('deletes a key never stored without complaint', async () => {
      await expect(cache.delete(newKey())).resolves.toBeUndefined();
    });
  });

  describe('replace', () => {
    it('serves the second of two puts of one key, with its own TTL', async () => {
      await cache.put(key, sseAnswer(), options(T0, 60));

      await cache.put(key, jsonAnswer(), options(T0 + 30_000, 600));

      expect(await cache.get(key, T0 + 120_000)).toEqual(jsonAnswer());
    });

    it('replaces a many-part answer with a short one, and back', async () => {
      const large = sseAnswer({ body: largeBody() });
      await cache.put(key, large, options());

      await cache.put(key, jsonAnswer(), options());
      const short = await cache.get(key, T0);
      await cache.put(key, large, options());
      const longAgain = await cache.get(key, T0);

      expect(short).toEqual(jsonAnswer());
      expect(longAgain?.body === large.body).toBe(true);
    });
  });
}
