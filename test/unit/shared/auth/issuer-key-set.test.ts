import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAILED_READ_BACKOFF_MS, issuerKeySet } from '../../../../shared/auth/issuer-key-set.js';
import { KeySetUnavailableError } from '../../../../shared/auth/key-set-unavailable-error.js';

describe('issuerKeySet', () => {
  let server: Server;
  let url: URL;
  let answer: 'the key set' | '503' | 'nothing' = 'the key set';
  let reads = 0;

  beforeAll(async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    server = createServer((_, response) => {
      reads++;
      if (answer === 'nothing') return;
      response.statusCode = answer === '503' ? 503 : 200;
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    answer = 'the key set';
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const keyFor = (keySet: ReturnType<typeof issuerKeySet>, kid: string) =>
    keySet({ alg: 'RS256', kid }, { payload: '', signature: '' });

  describe('read ahead', () => {
    it('reads the set once, for the tokens that come after it and one that came during it', async () => {
      const keySet = issuerKeySet(url);
      const readsBefore = reads;

      const reading = keySet.readAhead();
      const during = keyFor(keySet, 'k1');
      await reading;
      const after = keyFor(keySet, 'k1');

      await expect(during).resolves.toBeDefined();
      await expect(after).resolves.toBeDefined();
      expect(reads).toBe(readsBefore + 1);
    });

    it('settles when the read fails, and the next token reads again rather than waiting out a pause', async () => {
      answer = '503';
      const keySet = issuerKeySet(url);
      const readsBefore = reads;

      await expect(keySet.readAhead()).resolves.toBeUndefined();
      answer = 'the key set';

      await expect(keyFor(keySet, 'k1')).resolves.toBeDefined();
      expect(reads).toBe(readsBefore + 2);
    });
  });

  it('tells once per failed read that the set read before is used, naming when it was read', async () => {
    const onStaleKeySet = vi.fn();
    const keySet = issuerKeySet(url, { onStaleKeySet });
    const readAt = new Date('2026-01-01T00:00:00Z');
    vi.setSystemTime(readAt);
    await keyFor(keySet, 'k1');

    answer = '503';
    vi.setSystemTime(readAt.getTime() + 11 * 60_000);
    await keyFor(keySet, 'k1');
    await keyFor(keySet, 'k1');

    expect(onStaleKeySet).toHaveBeenCalledOnce();
    expect(onStaleKeySet).toHaveBeenCalledWith({ error: expect.any(Error), readAt });
  });

  it('answers 503, not 401, to a kid the set held lacks while the issuer is down: a key it may have rotated in since', async () => {
    const keySet = issuerKeySet(url);
    await keyFor(keySet, 'k1');

    answer = '503';
    vi.setSystemTime(Date.now() + 31_000); // past jose's cooldown: the unknown kid reads again
    const readsBefore = reads;

    await expect(keyFor(keySet, 'k9')).rejects.toBeInstanceOf(KeySetUnavailableError);
    expect(reads).toBe(readsBefore + 1);
    // Within the pause after that failed read, no read: 503 at once, the held key still admitted.
    await expect(keyFor(keySet, 'k9')).rejects.toBeInstanceOf(KeySetUnavailableError);
    await expect(keyFor(keySet, 'k1')).resolves.toBeDefined();
    expect(reads).toBe(readsBefore + 1);
  });

  it('refuses a kid the set lacks as the token’s fault once the issuer answers again', async () => {
    const keySet = issuerKeySet(url);
    await keyFor(keySet, 'k1');
    answer = '503';
    vi.setSystemTime(Date.now() + 11 * 60_000);
    await keyFor(keySet, 'k1');

    answer = 'the key set';
    vi.setSystemTime(Date.now() + FAILED_READ_BACKOFF_MS);
    await expect(keyFor(keySet, 'k9')).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('answers at once without a set for a while after a failed read, then reads again', async () => {
    answer = '503';
    const keySet = issuerKeySet(url);
    const readsBefore = reads;

    await expect(keyFor(keySet, 'k1')).rejects.toBeInstanceOf(KeySetUnavailableError);
    await expect(keyFor(keySet, 'k1')).rejects.toBeInstanceOf(KeySetUnavailableError);
    expect(reads).toBe(readsBefore + 1);

    answer = 'the key set';
    vi.setSystemTime(Date.now() + FAILED_READ_BACKOFF_MS);
    await expect(keyFor(keySet, 'k1')).resolves.toBeDefined();
  });

  it('hands a token without kid the keys held at once while the issuer hangs, for the verifier to try each', async () => {
    // An issuer that names no kid, rotating: two keys of the token's algorithm.
    const pairs = await Promise.all([1, 2].map(() => generateKeyPair('RS256')));
    const keys = await Promise.all(
      pairs.map(async ({ publicKey }) => ({ ...(await exportJWK(publicKey)), alg: 'RS256' })),
    );
    let issuer: 'up' | '503' | 'hanging' = 'up';
    const kidless = createServer((_, response) => {
      if (issuer === 'hanging') return;
      response.statusCode = issuer === '503' ? 503 : 200;
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => kidless.listen(0, '127.0.0.1', resolve));
    try {
      const keySet = issuerKeySet(
        new URL(`http://127.0.0.1:${(kidless.address() as AddressInfo).port}/jwks.json`),
      );
      const withoutKid = async () => {
        try {
          return await keySet({ alg: 'RS256' }, { payload: '', signature: '' });
        } catch (error) {
          return error;
        }
      };
      await withoutKid();
      issuer = '503';
      vi.setSystemTime(Date.now() + 11 * 60_000);
      await withoutKid();
      issuer = 'hanging';
      vi.setSystemTime(Date.now() + FAILED_READ_BACKOFF_MS);
      const startedMs = performance.now();
      const refusal = await withoutKid();

      expect(performance.now() - startedMs).toBeLessThan(2500); // a read of it would wait 5 s
      expect(refusal).toBeInstanceOf(errors.JWKSMultipleMatchingKeys);
      const candidates: unknown[] = [];
      for await (const key of refusal as errors.JWKSMultipleMatchingKeys) candidates.push(key);
      expect(candidates).toHaveLength(2);
    } finally {
      kidless.closeAllConnections();
      await new Promise((resolve) => kidless.close(resolve));
    }
  }, 10_000);

  it('answers a token of a key held at once while the issuer hangs, reading the set again off its path', async () => {
    const keySet = issuerKeySet(url);
    await keyFor(keySet, 'k1');
    answer = '503';
    vi.setSystemTime(Date.now() + 11 * 60_000);
    await keyFor(keySet, 'k1');

    answer = 'nothing';
    vi.setSystemTime(Date.now() + FAILED_READ_BACKOFF_MS);
    const readsBefore = reads;
    const startedMs = performance.now();
    await keyFor(keySet, 'k1');

    expect(performance.now() - startedMs).toBeLessThan(2500); // jose would wait 5 s
    await vi.waitFor(() => expect(reads).toBe(readsBefore + 1));
  });
});
