import { describe, expect, it } from 'vitest';
import { cappedRetryFetch } from '../../../../../shared/adapters/anthropic/capped-retry-fetch.js';
import { shouldRetryOf as upstreamShouldRetry } from '../../../../../shared/adapters/anthropic/model-error.js';

const answering =
  (status: number, headers: Record<string, string> = {}): typeof fetch =>
  async () =>
    new Response('{"type":"error"}', { status, headers });

const shouldRetryOf = async (next: typeof fetch) =>
  (await cappedRetryFetch(10_000, next)('http://upstream')).headers.get('x-should-retry');

describe('cappedRetryFetch', () => {
  it('forbids a retry the upstream asks to wait longer than the cap for', async () => {
    expect(await shouldRetryOf(answering(429, { 'retry-after': '120' }))).toBe('false');
    expect(await shouldRetryOf(answering(529, { 'retry-after-ms': '10001' }))).toBe('false');
    const date = new Date(Date.now() + 3_600_000).toUTCString();
    expect(await shouldRetryOf(answering(503, { 'retry-after': date }))).toBe('false');
  });

  it('leaves short waits, waits without retry-after and other statuses to the SDK', async () => {
    expect(await shouldRetryOf(answering(429, { 'retry-after': '7' }))).toBeNull();
    expect(await shouldRetryOf(answering(429))).toBeNull();
    expect(await shouldRetryOf(answering(400, { 'retry-after': '120' }))).toBeNull();
    expect(await shouldRetryOf(answering(200, { 'retry-after': '120' }))).toBeNull();
  });

  it("keeps the upstream's own word on retrying, for the caller: the false is ours (it reached the caller, whose SDK stopped retrying)", async () => {
    const capped = (headers: Record<string, string>) =>
      cappedRetryFetch(1_000, answering(429, headers))('http://upstream');

    const silent = await capped({ 'retry-after': '30' });
    const retrying = await capped({ 'retry-after': '30', 'x-should-retry': 'true' });

    expect(silent.headers.get('x-should-retry')).toBe('false');
    expect(upstreamShouldRetry(silent.headers)).toBeUndefined();
    expect(upstreamShouldRetry(retrying.headers)).toBe(true);
    expect(upstreamShouldRetry(new Headers({ 'x-should-retry': 'false' }))).toBe(false);
  });

  it('keeps the status, the retry-after and the body', async () => {
    const response = await cappedRetryFetch(
      1_000,
      answering(429, { 'retry-after': '120' }),
    )('http://upstream');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('120');
    expect(await response.text()).toBe('{"type":"error"}');
  });
});
