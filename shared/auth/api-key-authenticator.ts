import { type ApiKey, grantOf, hashApiKeySecret } from '../domain/api-key.js';
import type { Clock } from '../domain/clock.js';
import { AuthenticationError } from '../domain/errors.js';
import type { ApiKeyStore } from '../ports/api-key-store.js';
import type { Principal } from './token-verifier.js';

export interface ApiKeyAuthenticator {
  /** @throws AuthenticationError for an unknown, revoked or expired key */
  verify(secret: string): Promise<Principal>;
  /**
   * Refuses a key this instance revoked from now on, whatever it read before or reads next:
   * an eventually consistent read may still find it unrevoked for a moment.
   */
  noteRevoked(key: ApiKey): void;
  /**
   * Authorizes with the key's changed limits from now on, rather than with what this instance
   * read before: other instances take them within `cacheTtlMs`.
   */
  noteChanged(key: ApiKey): void;
  /**
   * How many keys this instance holds something of: what it read of them (about 10,000 at most)
   * and when it last recorded a use (those used within `touchIntervalMs`).
   */
  remembered(): { read: number; touched: number };
}

/**
 * Project API keys, looked up by the SHA-256 of the secret. A function instance keeps
 * what it read for `cacheTtlMs`, so a revocation takes effect within that time (at once
 * on the instance that revoked it); the key's lastUsedAt is written at most once per
 * `touchIntervalMs`, off the request's path.
 */
export function createApiKeyAuthenticator(deps: {
  store: ApiKeyStore;
  clock: Clock;
  /** @default 5000 */
  cacheTtlMs?: number;
  /** @default 60000 */
  touchIntervalMs?: number;
  onTouchFailed: (error: unknown) => void;
}): ApiKeyAuthenticator {
  const { store, clock } = deps;
  const cacheTtlMs = deps.cacheTtlMs ?? 5_000;
  const touchIntervalMs = deps.touchIntervalMs ?? 60_000;
  const read = new Map<string, { key: ApiKey | undefined; readAtMs: number }>();
  const touchedAtMs = new Map<string, number>();
  // Ids of the keys revoked here (a revocation is for good): a handful per instance.
  const revokedHere = new Set<string>();

  async function find(hash: string, nowMs: number): Promise<ApiKey | undefined> {
    const cached = read.get(hash);
    if (cached && nowMs - cached.readAtMs < cacheTtlMs) return cached.key;
    const key = await store.findByHash(hash);
    if (read.size > 10_000) read.clear();
    read.set(hash, { key, readAtMs: nowMs });
    return key;
  }

  function touch(key: ApiKey, nowMs: number): void {
    if (nowMs - (touchedAtMs.get(key.id) ?? Number.NEGATIVE_INFINITY) < touchIntervalMs) return;
    // Put last, so the oldest come first: a use recorded longer ago than the interval decides
    // nothing and is forgotten, or a warm instance would hold every key it ever saw.
    touchedAtMs.delete(key.id);
    touchedAtMs.set(key.id, nowMs);
    for (const [id, touchedMs] of touchedAtMs) {
      if (nowMs - touchedMs < touchIntervalMs) break;
      touchedAtMs.delete(id);
    }
    store.touch(key.id, new Date(nowMs).toISOString()).catch(deps.onTouchFailed);
  }

  return {
    async verify(secret) {
      const nowMs = clock();
      const key = await find(hashApiKeySecret(secret), nowMs);
      if (!key) throw new AuthenticationError('this API key is not known', 'invalid');
      if (key.revokedAt || revokedHere.has(key.id)) {
        throw new AuthenticationError('this API key was revoked', 'invalid');
      }
      if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) {
        throw new AuthenticationError(`this API key expired at ${key.expiresAt}`, 'invalid');
      }
      touch(key, nowMs);
      return { userId: key.principal, apiKey: grantOf(key) };
    },
    noteRevoked(key) {
      revokedHere.add(key.id);
    },
    noteChanged(key) {
      const nowMs = clock();
      // By the hash of its secret, which only the entries read by it know.
      for (const [hash, cached] of read) {
        if (cached.key?.id === key.id) read.set(hash, { key, readAtMs: nowMs });
      }
    },
    remembered: () => ({ read: read.size, touched: touchedAtMs.size }),
  };
}
