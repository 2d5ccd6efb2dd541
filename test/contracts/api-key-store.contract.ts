import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiKey,
  apiKeyHint,
  generateApiKeySecret,
  hashApiKeySecret,
  type KeyIssuance,
  newApiKeyId,
} from '../../shared/domain/api-key.js';
import { ConflictError, ValidationError } from '../../shared/domain/errors.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';

export interface ApiKeyStoreSubject {
  /** A store with no key in it: listings see every key. */
  store: ApiKeyStore;
}

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const newPrincipal = () => `contract-${randomUUID()}`;
const newSecretHash = () => hashApiKeySecret(generateApiKeySecret());

function keyOf(fields: Partial<ApiKey> = {}): ApiKey {
  return {
    id: newApiKeyId(),
    principal: 'team-search',
    hint: apiKeyHint(generateApiKeySecret()),
    createdAt: iso(T0),
    ...fields,
  };
}

const NOW_SECONDS = T0 / 1000;

/** The record of a request that made `key`, standing for a day from T0. */
function issuanceOf(key: ApiKey, fields: Partial<KeyIssuance> = {}): KeyIssuance {
  return {
    requestId: randomUUID().replaceAll('-', ''),
    bodyDigest: 'digest-of-the-body',
    keyId: key.id,
    sealedSecret: 'sealed-secret',
    expiresAtSeconds: NOW_SECONDS + 24 * 3600,
    ...fields,
  };
}

/** A key with every optional field set. */
function fullKeyOf(fields: Partial<ApiKey> = {}): ApiKey {
  return keyOf({
    name: 'nightly batch',
    monthlyBudgetUsd: 12.5,
    requestsPerMinute: 30,
    tokensPerMinute: 40_000,
    allowedModels: ['claude-sonnet-4-6', 'claude-haiku-4-5'],
    expiresAt: iso(T0 + 90 * 24 * 3600_000),
    revokedAt: iso(T0 + 3600_000),
    lastUsedAt: iso(T0 + 60_000),
    ...fields,
  });
}

function withoutLastUse(key: ApiKey): ApiKey {
  const { lastUsedAt: _, ...rest } = key;
  return rest;
}

/** A cursor with one character in its middle changed. */
function altered(cursor: string): string {
  const at = Math.floor(cursor.length / 2);
  return `${cursor.slice(0, at)}${cursor[at] === 'A' ? 'B' : 'A'}${cursor.slice(at + 1)}`;
}

/**
 * The ApiKeyStore port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * `subject` is called before every test and must return an empty store.
 */
export function apiKeyStoreContract(subject: () => Promise<ApiKeyStoreSubject>) {
  let store: ApiKeyStore;
  beforeEach(async () => {
    ({ store } = await subject());
  });

  async function created(key: ApiKey, secretHash = newSecretHash()): Promise<ApiKey> {
    await store.create(key, secretHash);
    return key;
  }

  /** Every page of a listing, following cursors until a page comes without one. */
  async function allPages(request: { limit: number; principal?: string }) {
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ ...request, ...(cursor && { cursor }) });
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 50);
    return pages;
  }

  describe('create, get and findByHash', () => {
    it('gives back a key with every optional field, by id and by hash (there without its last use)', async () => {
      const key = fullKeyOf();
      const secretHash = newSecretHash();

      await store.create(key, secretHash);

      expect(await store.get(key.id)).toStrictEqual(key);
      expect(await store.findByHash(secretHash)).toStrictEqual(withoutLastUse(key));
    });

    it('gives back a key with no optional field without adding any', async () => {
      const key = keyOf();
      const secretHash = newSecretHash();

      await store.create(key, secretHash);

      expect(await store.get(key.id)).toStrictEqual(key);
      expect(await store.findByHash(secretHash)).toStrictEqual(key);
    });

    it('keeps an empty list of allowed models apart from none', async () => {
      const key = await created(keyOf({ allowedModels: [] }));

      expect((await store.get(key.id))?.allowedModels).toEqual([]);
    });

    it('finds nothing by an unknown id or hash', async () => {
      await created(keyOf());

      expect(await store.get(newApiKeyId())).toBeUndefined();
      expect(await store.findByHash(newSecretHash())).toBeUndefined();
    });

    it('refuses a second key with the same id, and stores nothing of it', async () => {
      const first = await created(keyOf({ name: 'first' }));
      const secondHash = newSecretHash();

      const second = store.create(keyOf({ id: first.id, name: 'second' }), secondHash);

      await expect(second).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(first.id)).toStrictEqual(first);
      expect(await store.findByHash(secondHash)).toBeUndefined();
    });

    it('refuses a second key with the same secret hash, and stores nothing of it', async () => {
      const secretHash = newSecretHash();
      const first = await created(keyOf({ name: 'first' }), secretHash);
      const other = keyOf({ name: 'second' });

      const second = store.create(other, secretHash);

      await expect(second).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(other.id)).toBeUndefined();
      expect(await store.findByHash(secretHash)).toStrictEqual(first);
      expect((await store.list({ limit: 10 })).items).toEqual([first]);
    });
  });

  describe('list', () => {
    it('lists every key, newest first', async () => {
      const middle = await created(keyOf({ createdAt: iso(T0 + 60_000) }));
      const newest = await created(fullKeyOf({ createdAt: iso(T0 + 120_000) }));
      const oldest = await created(keyOf({ createdAt: iso(T0) }));

      const page = await store.list({ limit: 10 });

      expect(page.items).toStrictEqual([newest, middle, oldest]);
    });

    it('orders keys created at the same instant by id, highest first', async () => {
      const keys = [await created(keyOf()), await created(keyOf()), await created(keyOf())];

      const { items } = await store.list({ limit: 10 });

      const ids = keys.map((key) => key.id).sort();
      expect(items.map((key) => key.id)).toEqual(ids.reverse());
    });

    it('lists nothing, and no cursor, when there are no keys', async () => {
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
    });

    it('pages with an opaque cursor through every key exactly once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.unshift((await created(keyOf({ createdAt: iso(T0 + i * 1_000) }))).id);
      }

      const pages = await allPages({ limit: 2 });

      expect(pages[0]?.items).toHaveLength(2);
      expect(pages[0]?.nextCursor).toEqual(expect.any(String));
      expect(pages.flatMap((page) => page.items.map((key) => key.id))).toEqual(ids);
      expect(pages.at(-1)?.nextCursor).toBeUndefined();
    });

    it("lists only a principal's keys when one is given, newest first, paging past the others", async () => {
      const principal = newPrincipal();
      const theirs: string[] = [];
      for (let i = 0; i < 9; i++) {
        const key = await created(
          keyOf({ principal: i % 3 === 0 ? principal : newPrincipal(), createdAt: iso(T0 + i) }),
        );
        if (key.principal === principal) theirs.unshift(key.id);
      }

      const pages = await allPages({ limit: 2, principal });

      for (const page of pages) expect(page.items.length).toBeLessThanOrEqual(2);
      expect(pages.flatMap((page) => page.items.map((key) => key.id))).toEqual(theirs);
    });

    it("finds a principal's few keys among hundreds of others", async () => {
      const principal = newPrincipal();
      const theirs = new Set([3, 150, 240]);
      const keys = Array.from({ length: 250 }, (_, i) =>
        keyOf({ principal: theirs.has(i) ? principal : 'another-team', createdAt: iso(T0 + i) }),
      );
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((key) => created(key)));
      }

      const pages = await allPages({ limit: 2, principal });

      const expected = keys.filter((key) => key.principal === principal).reverse();
      expect(pages.flatMap((page) => page.items)).toStrictEqual(expected);
    });

    it('refuses a cursor that was altered', async () => {
      await created(keyOf({ createdAt: iso(T0) }));
      await created(keyOf({ createdAt: iso(T0 + 1) }));
      const { nextCursor } = await store.list({ limit: 1 });

      const forged = store.list({ limit: 1, cursor: altered(nextCursor!) });

      await expect(forged).rejects.toBeInstanceOf(ValidationError);
    });

    it('refuses a cursor that no page gave', async () => {
      const forged = store.list({ limit: 1, cursor: 'not-a-cursor' });

      await expect(forged).rejects.toBeInstanceOf(ValidationError);
    });

    it("refuses a cursor of the whole list for a principal's keys, and one principal's for another's", async () => {
      const principal = newPrincipal();
      await created(keyOf({ principal, createdAt: iso(T0) }));
      await created(keyOf({ principal, createdAt: iso(T0 + 1) }));
      const everyone = await store.list({ limit: 1 });
      const theirs = await store.list({ limit: 1, principal });

      const narrowed = store.list({ limit: 1, principal, cursor: everyone.nextCursor });
      const elsewhere = store.list({
        limit: 1,
        principal: 'someone-else',
        cursor: theirs.nextCursor,
      });
      const widened = store.list({ limit: 1, cursor: theirs.nextCursor });

      await expect(narrowed).rejects.toBeInstanceOf(ValidationError);
      await expect(elsewhere).rejects.toBeInstanceOf(ValidationError);
      await expect(widened).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('revoke', () => {
    it('revokes a key once: revoking it again keeps the first time, seen by id, hash and list', async () => {
      const secretHash = newSecretHash();
      const key = await created(keyOf(), secretHash);
      await store.touch(key.id, iso(T0 + 1_000));
      const used = { ...key, lastUsedAt: iso(T0 + 1_000) };

      const first = await store.revoke(key.id, iso(T0 + 5_000));
      const second = await store.revoke(key.id, iso(T0 + 9_000));

      const revoked = { ...used, revokedAt: iso(T0 + 5_000) };
      expect(first).toStrictEqual(revoked);
      expect(second).toStrictEqual(revoked);
      expect(await store.get(key.id)).toStrictEqual(revoked);
      expect(await store.findByHash(secretHash)).toStrictEqual(withoutLastUse(revoked));
      expect((await store.list({ limit: 10 })).items).toStrictEqual([revoked]);
    });

    it('keeps the time of a key that was stored revoked', async () => {
      const key = await created(keyOf({ revokedAt: iso(T0) }));

      expect(await store.revoke(key.id, iso(T0 + 5_000))).toStrictEqual(key);
    });

    it('finds no key to revoke for an unknown id, and creates none', async () => {
      const id = newApiKeyId();

      expect(await store.revoke(id, iso(T0))).toBeUndefined();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
    });
  });

  describe('changeLimits', () => {
    it('sets and removes limits, seen by id, hash and list, and changes nothing else of the key', async () => {
      const secretHash = newSecretHash();
      const { revokedAt: _revoked, lastUsedAt: _used, ...unused } = fullKeyOf();
      const key = await created(unused, secretHash);
      await store.touch(key.id, iso(T0 + 1_000));

      const changed = await store.changeLimits(key.id, {
        monthlyBudgetUsd: 0.25,
        requestsPerMinute: null,
        allowedModels: ['claude-haiku-4-5'],
      });

      const { requestsPerMinute: _removed, ...rest } = key;
      const expected: ApiKey = {
        ...rest,
        monthlyBudgetUsd: 0.25,
        allowedModels: ['claude-haiku-4-5'],
        lastUsedAt: iso(T0 + 1_000),
      };
      expect(changed).toStrictEqual(expected);
      expect(await store.get(key.id)).toStrictEqual(expected);
      expect(await store.findByHash(secretHash)).toStrictEqual(withoutLastUse(expected));
      expect((await store.list({ limit: 10 })).items).toStrictEqual([expected]);
    });

    it('removes every limit with null, leaving a key with none', async () => {
      const secretHash = newSecretHash();
      const key = await created(
        keyOf({
          monthlyBudgetUsd: 3,
          requestsPerMinute: 5,
          tokensPerMinute: 500,
          allowedModels: ['claude-sonnet-4-6'],
        }),
        secretHash,
      );

      const changed = await store.changeLimits(key.id, {
        monthlyBudgetUsd: null,
        requestsPerMinute: null,
        tokensPerMinute: null,
        allowedModels: null,
      });

      const bare: ApiKey = {
        id: key.id,
        principal: key.principal,
        hint: key.hint,
        createdAt: key.createdAt,
      };
      expect(changed).toStrictEqual(bare);
      expect(await store.findByHash(secretHash)).toStrictEqual(bare);
    });

    it('changes nothing when no limit is named', async () => {
      const key = await created(keyOf({ monthlyBudgetUsd: 3 }));

      expect(await store.changeLimits(key.id, {})).toStrictEqual(key);
      expect(await store.get(key.id)).toStrictEqual(key);
    });

    it('refuses to change a revoked key, and leaves it as it was', async () => {
      const secretHash = newSecretHash();
      const key = await created(keyOf({ monthlyBudgetUsd: 3 }), secretHash);
      const revoked = await store.revoke(key.id, iso(T0 + 5_000));

      const change = store.changeLimits(key.id, { monthlyBudgetUsd: 100 });

      await expect(change).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(key.id)).toStrictEqual(revoked);
      expect(await store.findByHash(secretHash)).toStrictEqual(revoked);
    });

    it('finds no key to change for an unknown id, and creates none', async () => {
      const id = newApiKeyId();

      expect(await store.changeLimits(id, { monthlyBudgetUsd: 1 })).toBeUndefined();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
    });
  });

  describe('createOnce and findIssuance', () => {
    it('stores the key and its request’s record together, found by the request', async () => {
      const key = fullKeyOf();
      const secretHash = newSecretHash();
      const issuance = issuanceOf(key);

      const standing = await store.createOnce(key, secretHash, issuance, NOW_SECONDS);

      expect(standing).toStrictEqual(issuance);
      expect(await store.get(key.id)).toStrictEqual(key);
      expect(await store.findByHash(secretHash)).toStrictEqual(withoutLastUse(key));
      expect(await store.findIssuance(issuance.requestId, NOW_SECONDS)).toStrictEqual(issuance);
    });

    it('stores nothing for a request already made, and gives back its record', async () => {
      const first = keyOf({ name: 'first' });
      const issuance = issuanceOf(first);
      await store.createOnce(first, newSecretHash(), issuance, NOW_SECONDS);
      const second = keyOf({ name: 'second' });
      const secondHash = newSecretHash();

      const standing = await store.createOnce(
        second,
        secondHash,
        issuanceOf(second, { requestId: issuance.requestId, bodyDigest: 'another' }),
        NOW_SECONDS + 60,
      );

      expect(standing).toStrictEqual(issuance);
      expect(await store.get(second.id)).toBeUndefined();
      expect(await store.findByHash(secondHash)).toBeUndefined();
      expect((await store.list({ limit: 10 })).items).toStrictEqual([first]);
    });

    it('stores one key of many made at once for one request, and gives each its record', async () => {
      const requestId = randomUUID().replaceAll('-', '');
      const keys = Array.from({ length: 5 }, () => keyOf());

      const standing = await Promise.all(
        keys.map((key) =>
          store.createOnce(key, newSecretHash(), issuanceOf(key, { requestId }), NOW_SECONDS),
        ),
      );

      const kept = standing[0]!.keyId;
      expect(standing.map((issuance) => issuance.keyId)).toEqual(keys.map(() => kept));
      expect((await store.list({ limit: 10 })).items.map((key) => key.id)).toEqual([kept]);
    });

    it('no longer finds a record past its expiry, and stores a new key for its request', async () => {
      const first = keyOf({ createdAt: iso(T0) });
      const issuance = issuanceOf(first, { expiresAtSeconds: NOW_SECONDS + 10 });
      await store.createOnce(first, newSecretHash(), issuance, NOW_SECONDS);
      const later = NOW_SECONDS + 11;
      const second = keyOf({ createdAt: iso(later * 1000) });
      const renewed = issuanceOf(second, {
        requestId: issuance.requestId,
        expiresAtSeconds: later + 10,
      });

      expect(await store.findIssuance(issuance.requestId, NOW_SECONDS + 10)).toStrictEqual(
        issuance,
      );
      expect(await store.findIssuance(issuance.requestId, later)).toBeUndefined();
      expect(await store.createOnce(second, newSecretHash(), renewed, later)).toStrictEqual(
        renewed,
      );
      expect(await store.findIssuance(issuance.requestId, later)).toStrictEqual(renewed);
      expect((await store.list({ limit: 10 })).items.map((key) => key.id)).toEqual([
        second.id,
        first.id,
      ]);
    });

    it('refuses a key whose id exists, storing no record of its request', async () => {
      const first = await created(keyOf());
      const issuance = issuanceOf(first);

      const second = store.createOnce(
        keyOf({ id: first.id }),
        newSecretHash(),
        issuance,
        NOW_SECONDS,
      );

      await expect(second).rejects.toBeInstanceOf(ConflictError);
      expect(await store.findIssuance(issuance.requestId, NOW_SECONDS)).toBeUndefined();
    });

    it('finds no record of a request never made', async () => {
      expect(await store.findIssuance('0'.repeat(64), NOW_SECONDS)).toBeUndefined();
    });
  });

  describe('touch', () => {
    it('records when the key was last used, by id and in the list', async () => {
      const key = await created(keyOf());

      await store.touch(key.id, iso(T0 + 1_000));
      await store.touch(key.id, iso(T0 + 2_000));

      const used = { ...key, lastUsedAt: iso(T0 + 2_000) };
      expect(await store.get(key.id)).toStrictEqual(used);
      expect((await store.list({ limit: 10 })).items).toStrictEqual([used]);
    });

    it('keeps the latest use when uses are recorded out of order', async () => {
      const key = await created(keyOf());

      await store.touch(key.id, iso(T0 + 2_000));
      await store.touch(key.id, iso(T0 + 1_000));

      expect((await store.get(key.id))?.lastUsedAt).toBe(iso(T0 + 2_000));
    });

    it('neither fails nor creates a key when touching an unknown id', async () => {
      const id = newApiKeyId();

      await expect(store.touch(id, iso(T0))).resolves.toBeUndefined();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
    });
  });
}
