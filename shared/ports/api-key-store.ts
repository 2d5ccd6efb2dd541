import type { ApiKey, ApiKeyLimitChanges, KeyIssuance } from '../domain/api-key.js';
import type { Page } from '../domain/conversation.js';
import type { PageRequest } from './conversation-store.js';

/** Project API keys, found by the hash of their secret. */
export interface ApiKeyStore {
  /** Stores a new key. @throws ConflictError when its id or hash exists already */
  create(key: ApiKey, secretHash: string): Promise<void>;
  /**
   * Stores a new key together with the record of the request that made it, in one write,
   * unless a record of that request (`issuance.requestId`) stands unexpired at `nowSeconds`:
   * then nothing is stored. Of two such requests at once, one stores its key.
   * @returns the record that stands: `issuance` when the key was stored, else the earlier one
   * @throws ConflictError when the key's id or hash exists already
   */
  createOnce(
    key: ApiKey,
    secretHash: string,
    issuance: KeyIssuance,
    nowSeconds: number,
  ): Promise<KeyIssuance>;
  /** The record of a request, unless there is none or it expired before `nowSeconds`. */
  findIssuance(requestId: string, nowSeconds: number): Promise<KeyIssuance | undefined>;
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
