import type { ApiKey, ApiKeyLimitChanges, KeyIssuance } from '../../shared/domain/api-key.js';
import type { Page } from '../../shared/domain/conversation.js';
import { ConflictError } from '../../shared/domain/errors.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { PageRequest } from '../../shared/ports/conversation-store.js';
import { decodeCursor, encodeCursor } from './fake-cursor.js';

/**
 * The ApiKeyStore port in memory, with the DynamoDB adapter's semantics: a key is found
 * by its id and by its secret's hash, both unique; `findByHash` gives no `lastUsedAt`
 * (the adapter keeps it on the by-id item only); keys list newest first, ties by id;
 * `touch` never moves `lastUsedAt` back; cursors are bound to their listing and refused
 * when altered. Pages are always full, as the adapter's are without a principal filter.
 */
export class InMemoryApiKeyStore implements ApiKeyStore {
  /** Every touch asked for, in order, whether or not the key exists. */
  readonly touches: Array<{ id: string; nowIso: string }> = [];
  private readonly byId = new Map<string, { key: ApiKey; secretHash: string }>();
  private readonly idByHash = new Map<string, string>();
  private readonly issuances = new Map<string, KeyIssuance>();

  async create(key: ApiKey, secretHash: string): Promise<void> {
    this.insert(key, secretHash);
  }

  /** Synchronous, so that nothing runs between its checks and its writes. */
  private insert(key: ApiKey, secretHash: string): void {
    if (this.byId.has(key.id))
      throw new ConflictError(`an API key with id ${key.id} exists already`);
    if (this.idByHash.has(secretHash)) {
      throw new ConflictError(`an API key with the same secret as key ${key.id} exists already`);
    }
    this.byId.set(key.id, { key: structuredClone(key), secretHash });
    this.idByHash.set(secretHash, key.id);
  }

  async createOnce(
    key: ApiKey,
    secretHash: string,
    issuance: KeyIssuance,
    nowSeconds: number,
  ): Promise<KeyIssuance> {
    // As the adapter's one transaction: a clash of the key is refused before the record is read.
    if (this.byId.has(key.id) || this.idByHash.has(secretHash)) this.insert(key, secretHash);
    const standing = this.standingIssuance(issuance.requestId, nowSeconds);
    if (standing) return standing;
    this.insert(key, secretHash);
    this.issuances.set(issuance.requestId, structuredClone(issuance));
    return structuredClone(issuance);
  }

  async findIssuance(requestId: string, nowSeconds: number): Promise<KeyIssuance | undefined> {
    return this.standingIssuance(requestId, nowSeconds);
  }

  private standingIssuance(requestId: string, nowSeconds: number): KeyIssuance | undefined {
    const issuance = this.issuances.get(requestId);
    return issuance && issuance.expiresAtSeconds >= nowSeconds
      ? structuredClone(issuance)
      : undefined;
  }

  async findByHash(secretHash: string): Promise<ApiKey | undefined> {
    const id = this.idByHash.get(secretHash);
    const key = id === undefined ? undefined : await this.get(id);
    if (key) delete key.lastUsedAt;
    return key;
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const stored = this.byId.get(id);
    return stored && structuredClone(stored.key);
  }

  async list(page: PageRequest & { principal?: string }): Promise<Page<ApiKey>> {
    const { principal } = page;
    const owner = principal === undefined ? 'APIKEYS' : `APIKEYS#${principal}`;
    const after = decodeCursor(page.cursor, owner);
    const newestFirst = [...this.byId.values()]
      .map(({ key }) => ({ position: positionOf(key), key }))
      .filter(({ key }) => principal === undefined || key.principal === principal)
      .filter(({ position }) => after === undefined || position < after)
      .sort((a, b) => (a.position < b.position ? 1 : -1));
    const items = newestFirst.slice(0, page.limit);
    const last = items.at(-1);
    const result: Page<ApiKey> = { items: items.map(({ key }) => structuredClone(key)) };
    if (items.length === page.limit && last) result.nextCursor = encodeCursor(owner, last.position);
    return result;
  }

  async revoke(id: string, nowIso: string): Promise<ApiKey | undefined> {
    const stored = this.byId.get(id);
    if (!stored) return undefined;
    stored.key.revokedAt ??= nowIso;
    return structuredClone(stored.key);
  }

  async changeLimits(id: string, changes: ApiKeyLimitChanges): Promise<ApiKey | undefined> {
    const stored = this.byId.get(id);
    if (!stored) return undefined;
    if (stored.key.revokedAt !== undefined) {
      throw new ConflictError(`API key ${id} is revoked: its limits cannot change`);
    }
    const key = stored.key as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete key[name];
      else if (value !== undefined) key[name] = structuredClone(value);
    }
    return structuredClone(stored.key);
  }

  async touch(id: string, nowIso: string): Promise<void> {
    this.touches.push({ id, nowIso });
    const key = this.byId.get(id)?.key;
    if (key && (key.lastUsedAt === undefined || key.lastUsedAt < nowIso)) key.lastUsedAt = nowIso;
  }
}

/** Where a key sorts in the list: as the adapter's index sort key. */
const positionOf = (key: ApiKey) => `${key.createdAt}#${key.id}`;
