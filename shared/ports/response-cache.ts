import type { TokenUsage } from '../domain/usage.js';

/** A complete answer, kept to be replayed byte for byte. */
export interface CachedResponse {
  /** `sse`: a /v1/messages event stream as sent; `json`: its response body; `text`: a chat answer. */
  format: 'sse' | 'json' | 'text';
  body: string;
  model: string;
  stopReason: string;
  /** What the answer cost when it was made; a replay costs nothing. */
  usage: TokenUsage;
}

/** Exact-match response cache, by a hash of everything that shapes the answer. */
export interface ResponseCache {
  /** @returns the entry, unless there is none or it expired by `nowMs` */
  get(key: string, nowMs: number): Promise<CachedResponse | undefined>;
  /** Stores (or replaces) the entry until `nowMs + ttlSeconds`. */
  put(
    key: string,
    response: CachedResponse,
    options: { ttlSeconds: number; nowMs: number },
  ): Promise<void>;
  /** Removes the entry, if there is one. */
  delete(key: string): Promise<void>;
}
