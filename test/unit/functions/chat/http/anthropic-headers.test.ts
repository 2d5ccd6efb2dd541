import { describe, expect, it } from 'vitest';
import {
  anthropicRequestHeaders,
  rateLimitHeaders,
} from '../../../../../functions/chat/http/anthropic-headers.js';
import type { RateWindow } from '../../../../../shared/ports/rate-limiter.js';

/** 10:00:00 UTC, the start of a minute. */
const WINDOW_START_MS = Date.parse('2026-11-15T10:00:00.000Z');
const RESET = '2026-11-15T10:01:00.000Z';

function rateWindow(fields: Partial<RateWindow> = {}): RateWindow {
  return {
    subject: 'user:alice',
    windowStartMs: WINDOW_START_MS,
    limits: { requestsPerMinute: 50, tokensPerMinute: 40_000 },
    requests: 1,
    tokens: 1_000,
    ...fields,
  };
}

describe('anthropicRequestHeaders', () => {
  it('reads the version trimmed', () => {
    const read = anthropicRequestHeaders(new Headers({ 'anthropic-version': ' 2023-06-01  ' }));

    expect(read.anthropicVersion).toBe('2023-06-01');
  });

  it.each([
    ['absent', {}],
    ['blank', { 'anthropic-version': '   ' }],
  ])('gives no version when the header is %s', (_, headers) => {
    expect(anthropicRequestHeaders(new Headers(headers))).not.toHaveProperty('anthropicVersion');
  });

  it('splits the betas on commas, trimming them and dropping empty ones', () => {
    const read = anthropicRequestHeaders(
      new Headers({ 'anthropic-beta': ' context-1m-2025-08-07,,  files-api-2025-04-14 , ' }),
    );

    expect(read.betas).toEqual(['context-1m-2025-08-07', 'files-api-2025-04-14']);
  });

  it('gives no betas when the header is absent', () => {
    expect(anthropicRequestHeaders(new Headers()).betas).toEqual([]);
  });

  it.each([
    ["the official SDK's", { 'x-stainless-retry-count': '0' }, true],
    [
      "the AI SDK's generateText",
      { 'user-agent': 'ai/7.0.173 ai-sdk-provider-utils/5.0.81' },
      true,
    ],
    ["the AI SDK's streamText", { 'user-agent': 'ai-sdk-anthropic/4.0.105 node.js/24' }, true],
    ['curl', { 'user-agent': 'curl/8.5.0' }, false],
    ['a client named like the AI SDK', { 'user-agent': 'aider/0.1 mai/2' }, false],
    ['no client', {}, false],
  ])('tells whether the caller retries itself: %s', (_, headers, retries) => {
    expect(anthropicRequestHeaders(new Headers(headers)).callerRetries).toBe(retries);
  });

  it.each([
    ['no-store', 'bypass'],
    ['no-cache', 'refresh'],
    ['no-cache, no-store', 'bypass'],
    ['no-store,no-cache', 'bypass'],
    ['No-Store', 'bypass'],
    ['NO-CACHE', 'refresh'],
    ['max-age=0, No-Cache', 'refresh'],
    ['max-age=0', 'default'],
    ['no-storage', 'default'],
    ['', 'default'],
  ])('reads cache-control %j as %s', (cacheControl, directive) => {
    const read = anthropicRequestHeaders(new Headers({ 'cache-control': cacheControl }));

    expect(read.cache).toBe(directive);
  });

  it('reads no cache-control header as the default', () => {
    expect(anthropicRequestHeaders(new Headers()).cache).toBe('default');
  });
});

describe('rateLimitHeaders', () => {
  it('gives no headers when the request was counted in no window', () => {
    expect(rateLimitHeaders([])).toEqual({});
  });

  it("describes a single window in Anthropic's headers, resetting at the end of its minute", () => {
    const headers = rateLimitHeaders([rateWindow({ requests: 3, tokens: 2_500 })]);

    expect(headers).toEqual({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '47',
      'anthropic-ratelimit-requests-reset': RESET,
      'anthropic-ratelimit-tokens-limit': '40000',
      'anthropic-ratelimit-tokens-remaining': '37500',
      'anthropic-ratelimit-tokens-reset': RESET,
    });
  });

  it('takes the request headers from the window with fewer requests left, and the token headers from the one with fewer tokens left', () => {
    const user = rateWindow({
      limits: { requestsPerMinute: 50, tokensPerMinute: 40_000 },
      requests: 45,
      tokens: 10_000,
    });
    const key = rateWindow({
      subject: 'key:key_1',
      windowStartMs: WINDOW_START_MS + 60_000,
      limits: { requestsPerMinute: 100, tokensPerMinute: 12_000 },
      requests: 10,
      tokens: 8_000,
    });

    for (const windows of [
      [user, key],
      [key, user],
    ]) {
      expect(rateLimitHeaders(windows)).toEqual({
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '5',
        'anthropic-ratelimit-requests-reset': RESET,
        'anthropic-ratelimit-tokens-limit': '12000',
        'anthropic-ratelimit-tokens-remaining': '4000',
        'anthropic-ratelimit-tokens-reset': '2026-11-15T10:02:00.000Z',
      });
    }
  });

  it('never says less than nothing remains', () => {
    const overCounted = rateWindow({
      limits: { requestsPerMinute: 10, tokensPerMinute: 1_000 },
      requests: 12,
      tokens: 1_600,
    });

    const headers = rateLimitHeaders([overCounted]);

    expect(headers['anthropic-ratelimit-requests-remaining']).toBe('0');
    expect(headers['anthropic-ratelimit-tokens-remaining']).toBe('0');
  });
});
