import type { ApiKey, ApiKeyLimitChanges } from '../domain/api-key.js';
import type { Page } from '../domain/conversation.js';
import type { PageRequest } from './conversation-store.js';

/** Project API keys, found by the hash of their secret. */
export interface ApiKeyStore {
  /** Stores a new key. @throws ConflictError when its id or hash exists already */
  create(key: ApiKey, secretHash: string): Promise<void>;
  /** The key whose secret hashes to `secretHash`, revoked and expired ones included. */
  findByHash(secretHash: string): Promise<ApiKey | undefined>;
  get(id: string): Promise<ApiKey | undefined>;
  /** Keys, newest first; only `principal`'s when given. */
  list(page: PageRequest & { principal?: string }): Promise<Page<ApiKey>>;
  /**
   * Marks the key revoked (once: revoking again keeps the first time).
   * @returns the key as revoked, or undefined when there is no such key
   */
  revoke(id: string, nowIso: string): Promise<ApiKey | undefined>;
  /**
   * Sets or removes (`null`) the key's limits on every copy it authorizes from; nothing else
   * of it changes.
   * @returns the key as changed, or undefined when there is no such key
   * @throws ConflictError when the key is revoked
   */
  changeLimits(id: string, changes: ApiKeyLimitChanges): Promise<ApiKey | undefined>;
  /** Records that the key was used at `nowIso`. */
  touch(id: string, nowIso: string): Promise<void>;
}
