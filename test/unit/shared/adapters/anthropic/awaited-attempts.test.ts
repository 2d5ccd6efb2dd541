import { describe, expect, it } from 'vitest';
import {
  type AwaitedAttempts,
  awaitedAttemptsFetch,
  countAwaitedAttempts,
} from '../../../../../shared/adapters/anthropic/awaited-attempts.js';

/** A fetch that fails as undici does: a TypeError whose cause has the socket's code. */
const failing =
  (code: string): typeof fetch =>
  async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  };

async function attemptsOf(next: typeof fetch, init?: RequestInit): Promise<AwaitedAttempts> {
  const attempts: AwaitedAttempts = { awaiting: 0, broken: [] };
  await countAwaitedAttempts(attempts, () =>
    awaitedAttemptsFetch(next)('https://api.example/v1/messages', init),
  ).catch(() => undefined);
  return attempts;
}

describe('awaitedAttemptsFetch', () => {
  it.each(['ECONNRESET', 'UND_ERR_SOCKET'])(
    'counts a request whose connection broke (%s) as it awaited its answer, with how long it awaited',
    async (code) => {
      const attempts = await attemptsOf(failing(code));

      expect(attempts.awaiting).toBe(0);
      expect(attempts.broken).toHaveLength(1);
      expect(attempts.broken[0]).toBeGreaterThanOrEqual(15);
    },
  );

  it('does not count one that never connected, one its caller aborted, or one answered', async () => {
    const aborted = new AbortController();
    aborted.abort();

    expect((await attemptsOf(failing('ECONNREFUSED'))).broken).toEqual([]);
    expect((await attemptsOf(failing('ENOTFOUND'))).broken).toEqual([]);
    expect((await attemptsOf(failing('ECONNRESET'), { signal: aborted.signal })).broken).toEqual(
      [],
    );
    expect((await attemptsOf(async () => new Response('{}'))).broken).toEqual([]);
  });
});
