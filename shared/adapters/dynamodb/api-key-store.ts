import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKey, ApiKeyLimitChanges, KeyIssuance } from '../../domain/api-key.js';
import type { Page } from '../../domain/conversation.js';
import { ConflictError } from '../../domain/errors.js';
import type { ApiKeyStore } from '../../ports/api-key-store.js';
import type { PageRequest } from '../../ports/conversation-store.js';
import type { CursorCodec } from './cursor.js';
import { failedConditions, isConditionFailure } from './errors.js';
import { queryIndexPage } from './index-page.js';
import { apiKeyKeys } from './keys.js';
import { transactWrite } from './transact.js';

type Item = Record<string, unknown>;

/**
 * The ApiKeyStore port on the single table. A key is two items written together: one by
 * id (the whole key, `secretHash`, and the list index) and one by the hash of the secret
 * (the fields that authorize a request). `lastUsedAt` is kept on the by-id item only, so
 * a key's use costs one write.
 */
export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Encodes page cursors; a store without one cannot list (the maintenance function's). */
    private readonly cursors?: CursorCodec,
  ) {}

  async create(key: ApiKey, secretHash: string): Promise<void> {
    try {
      await transactWrite(this.client, { TransactItems: this.keyPuts(key, secretHash) });
    } catch (error) {
      throw keyClash(error, key) ?? error;
    }
  }

  /**
   * The key's two items and the request's record in one transaction: a function that dies
   * between them cannot leave a key no record names (which a retry would then make again).
   * Of two requests racing, the one whose transaction loses finds the winner's record.
   */
  async createOnce(
    key: ApiKey,
    secretHash: string,
    issuance: KeyIssuance,
    nowSeconds: number,
  ): Promise<KeyIssuance> {
    const record = {
      Put: {
        TableName: this.tableName,
        Item: {
          ...apiKeyKeys.issuance(issuance.requestId),
          keyId: issuance.keyId,
          bodyDigest: issuance.bodyDigest,
          sealedSecret: issuance.sealedSecret,
          // The table's TTL attribute: DynamoDB deletes the record a while after it.
          expiresAt: issuance.expiresAtSeconds,
        },
        // One DynamoDB's TTL has not deleted yet is gone all the same.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
    };
    // Refused, the record stood at `nowSeconds`; should it be gone when read (deleted by
    // its TTL, DynamoDB's clock ahead of ours), the write goes again.
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await transactWrite(this.client, {
          TransactItems: [...this.keyPuts(key, secretHash), record],
        });
        return issuance;
      } catch (error) {
        const clash = keyClash(error, key);
        if (clash) throw clash;
        if (!failedConditions(error).includes(2)) throw error;
        const standing = await this.findIssuance(issuance.requestId, nowSeconds);
        if (standing) return standing;
      }
    }
    throw new Error(`the record of key request ${issuance.requestId} was refused, then not found`);
  }

  async findIssuance(requestId: string, nowSeconds: number): Promise<KeyIssuance | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: apiKeyKeys.issuance(requestId),
        ConsistentRead: true,
      }),
    );
    if (!Item || typeof Item.expiresAt !== 'number' || Item.expiresAt < nowSeconds) return;
    const field = (name: string) => {
      const value = Item[name];
      if (typeof value !== 'string') throw new Error(`key request ${requestId} has no ${name}`);
      return value;
    };
    return {
      requestId,
      bodyDigest: field('bodyDigest'),
      keyId: field('keyId'),
      sealedSecret: field('sealedSecret'),
      expiresAtSeconds: Item.expiresAt,
    };
  }

  /** The puts of a new key's two items, each refused should its key exist. */
  private keyPuts(key: ApiKey, secretHash: string) {
    const authorizing = authorizingAttributes(key);
    const put = (item: Item) => ({
      Put: {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    return [
      put({
        ...apiKeyKeys.byId(key.id),
        gsi1pk: apiKeyKeys.listPartition,
        gsi1sk: apiKeyKeys.listSort(key.createdAt, key.id),
        ...authorizing,
        ...(key.lastUsedAt !== undefined && { lastUsedAt: key.lastUsedAt }),
        secretHash,
      }),
      put({ ...apiKeyKeys.byHash(secretHash), ...authorizing }),
    ];
  }

  /**
   * Eventually consistent (half the cost on a key all traffic may use), but a miss is read
   * again strongly consistent: a key created a moment ago is found, rather than refused for
   * as long as the authenticator keeps the miss.
   */
  async findByHash(secretHash: string): Promise<ApiKey | undefined> {
    const read = (consistent: boolean) =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: apiKeyKeys.byHash(secretHash),
          ...(consistent && { ConsistentRead: true }),
        }),
      );
    const Item = (await read(false)).Item ?? (await read(true)).Item;
    return Item ? toApiKey(Item) : undefined;
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const item = await this.byId(id);
    return item ? toApiKey(item) : undefined;
  }

  private codec(): CursorCodec {
    if (!this.cursors) throw new Error('this API key store was built without a cursor codec');
    return this.cursors;
  }

  /**
   * With a `principal`, keys of other principals are filtered out after DynamoDB reads
   * them: a page may then hold fewer than `limit` keys and still have a `nextCursor`.
   */
  async list(page: PageRequest & { principal?: string }): Promise<Page<ApiKey>> {
    const { principal } = page;
    const { items, nextCursor } = await queryIndexPage(
      { client: this.client, tableName: this.tableName, cursors: this.codec() },
      {
        partition: apiKeyKeys.listPartition,
        cursorOwner:
          principal === undefined
            ? apiKeyKeys.listPartition
            : `${apiKeyKeys.listPartition}#${principal}`,
        limit: page.limit,
        ...(page.cursor !== undefined && { cursor: page.cursor }),
        ...(principal !== undefined && { filter: { attribute: 'principal', value: principal } }),
      },
    );
    const keys = items.map(toApiKey);
    return nextCursor ? { items: keys, nextCursor } : { items: keys };
  }

  async revoke(id: string, nowIso: string): Promise<ApiKey | undefined> {
    const item = await this.byId(id);
    if (!item) return undefined;
    const key = toApiKey(item);
    if (key.revokedAt !== undefined) return key;
    const revoke = (itemKey: Record<string, string>) => ({
      Update: {
        TableName: this.tableName,
        Key: itemKey,
        UpdateExpression: 'SET revokedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: { ':now': nowIso },
      },
    });
    try {
      await transactWrite(this.client, {
        TransactItems: [revoke(apiKeyKeys.byId(id)), revoke(apiKeyKeys.byHash(secretHashOf(item)))],
      });
      return { ...key, revokedAt: nowIso };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Revoked by someone else since it was read: theirs is the time that stays.
      const after = await this.get(id);
      if (!after || after.revokedAt !== undefined) return after;
      throw new Error(`API key ${id} could not be revoked: its by-hash item is missing`, {
        cause: error,
      });
    }
  }

  async changeLimits(id: string, changes: ApiKeyLimitChanges): Promise<ApiKey | undefined> {
    const item = await this.byId(id);
    if (!item) return undefined;
    if (toApiKey(item).revokedAt !== undefined) throw revokedKeyUnchanged(id);
    const update = limitsUpdate(changes);
    if (!update) return toApiKey(item);
    const change = (itemKey: Record<string, string>) => ({
      Update: {
        TableName: this.tableName,
        Key: itemKey,
        ...update,
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
      },
    });
    try {
      await transactWrite(this.client, {
        TransactItems: [change(apiKeyKeys.byId(id)), change(apiKeyKeys.byHash(secretHashOf(item)))],
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Revoked since it was read: a revoked key's limits stay as they were.
      const after = await this.get(id);
      if (!after) return undefined;
      if (after.revokedAt !== undefined) throw revokedKeyUnchanged(id, error);
      throw new Error(`API key ${id} could not be changed: its by-hash item is missing`, {
        cause: error,
      });
    }
    // Read back whole: a change racing with this one to other limits is in it.
    return this.get(id);
  }

  async touch(id: string, nowIso: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: apiKeyKeys.byId(id),
          UpdateExpression: 'SET lastUsedAt = :now',
          // Never creates a key, and never moves the time back when requests finish out of order.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :now)',
          ExpressionAttributeValues: { ':now': nowIso },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async byId(id: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: apiKeyKeys.byId(id), ConsistentRead: true }),
    );
    return Item;
  }
}

/**
 * The attributes both items hold. The key's own expiry is stored as `keyExpiresAt`:
 * `expiresAt` is the table's TTL attribute, and a key must never be deleted by TTL.
 */
function authorizingAttributes(key: ApiKey): Item {
  return definedOnly({
    id: key.id,
    principal: key.principal,
    name: key.name,
    hint: key.hint,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
    monthlyBudgetUsd: key.monthlyBudgetUsd,
    requestsPerMinute: key.requestsPerMinute,
    tokensPerMinute: key.tokensPerMinute,
    allowedModels: key.allowedModels && [...key.allowedModels],
    keyExpiresAt: key.expiresAt,
  });
}

/** Without its unset fields: an item stores no empty attributes, a key read back has none. */
function definedOnly<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

/** One update for both items: SET what is given, REMOVE what is null; none when nothing is. */
function limitsUpdate(changes: ApiKeyLimitChanges) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const set: string[] = [];
  const remove: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    if (value === null) remove.push(`#${name}`);
    else {
      values[`:${name}`] = Array.isArray(value) ? [...value] : value;
      set.push(`#${name} = :${name}`);
    }
  }
  if (set.length === 0 && remove.length === 0) return undefined;
  return {
    UpdateExpression: [
      set.length > 0 && `SET ${set.join(', ')}`,
      remove.length > 0 && `REMOVE ${remove.join(', ')}`,
    ]
      .filter(Boolean)
      .join(' '),
    ExpressionAttributeNames: names,
    ...(set.length > 0 && { ExpressionAttributeValues: values }),
  };
}

/** A ConflictError when the write failed for the key's id or hash (items 0 and 1), else none. */
function keyClash(error: unknown, key: ApiKey): ConflictError | undefined {
  if (!isConditionFailure(error)) return undefined;
  const failed = failedConditions(error);
  if (failed.includes(0)) {
    return new ConflictError(`an API key with id ${key.id} exists already`, { cause: error });
  }
  if (failed.includes(1)) {
    return new ConflictError(`an API key with the same secret as key ${key.id} exists already`, {
      cause: error,
    });
  }
  return undefined;
}

function revokedKeyUnchanged(id: string, cause?: unknown): ConflictError {
  return new ConflictError(`API key ${id} is revoked: its limits cannot change`, { cause });
}

function secretHashOf(item: Item): string {
  if (typeof item.secretHash !== 'string') {
    throw new Error(`API key ${String(item.id)} has no secretHash`);
  }
  return item.secretHash;
}

/**
 * A key as read back. An attribute of the wrong type fails the read rather than being
 * dropped: a key whose `revokedAt` or limits cannot be read must not authorize anything.
 */
function toApiKey(item: Item): ApiKey {
  const read = <T>(name: string, is: (value: unknown) => value is T): T | undefined => {
    const value = item[name];
    if (value === undefined || is(value)) return value as T | undefined;
    throw new Error(`API key ${String(item.id)} has a malformed ${name}`);
  };
  const required = (name: string) => {
    const value = read(name, isString);
    if (value === undefined) throw new Error(`API key ${String(item.id)} has no ${name}`);
    return value;
  };
  return definedOnly<ApiKey>({
    id: required('id'),
    principal: required('principal'),
    name: read('name', isString),
    hint: required('hint'),
    createdAt: required('createdAt'),
    revokedAt: read('revokedAt', isString),
    lastUsedAt: read('lastUsedAt', isString),
    monthlyBudgetUsd: read('monthlyBudgetUsd', isNumber),
    requestsPerMinute: read('requestsPerMinute', isNumber),
    tokensPerMinute: read('tokensPerMinute', isNumber),
    allowedModels: read('allowedModels', isStringList),
    expiresAt: read('keyExpiresAt', isString),
  });
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every(isString);
