import type { CachedResponse, ResponseCache } from '../../shared/ports/response-cache.js';

/**
 * The ResponseCache port in memory, with the DynamoDB adapter's semantics: an entry
 * lives until its expiry rounded up to the whole second (the adapter's TTL is in epoch
 * seconds), and the body comes back as UTF-8 would carry it (a lone surrogate becomes
 * U+FFFD).
 */
export class InMemoryResponseCache implements ResponseCache {
  /** Every get received, oldest first. */
  readonly gets: Array<{ key: string; nowMs: number }> = [];
  /** Every put received, oldest first. */
  readonly puts: Array<{
    key: string;
    response: CachedResponse;
    options: { ttlSeconds: number; nowMs: number };
  }> = [];
  private readonly entries = new Map<string, { response: CachedResponse; expiresAt: number }>();

  async get(key: string, nowMs: number): Promise<CachedResponse | undefined> {
    this.gets.push({ key, nowMs });
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt * 1000 <= nowMs) return undefined;
    return structuredClone(entry.response);
  }

  async put(
    key: string,
    response: CachedResponse,
    options: { ttlSeconds: number; nowMs: number },
  ): Promise<void> {
    this.puts.push({ key, response: structuredClone(response), options: { ...options } });
    this.entries.set(key, {
      response: { ...structuredClone(response), body: response.body.toWellFormed() },
      expiresAt: Math.ceil((options.nowMs + options.ttlSeconds * 1000) / 1000),
    });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
