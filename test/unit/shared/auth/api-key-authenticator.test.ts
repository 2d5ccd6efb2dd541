import { describe, expect, it, vi } from 'vitest';
import { createApiKeyAuthenticator } from '../../../../shared/auth/api-key-authenticator.js';
import {
  type ApiKey,
  apiKeyHint,
  generateApiKeySecret,
  hashApiKeySecret,
  newApiKeyId,
} from '../../../../shared/domain/api-key.js';
import { AuthenticationError } from '../../../../shared/domain/errors.js';
import { InMemoryApiKeyStore } from '../../../fakes/in-memory-api-key-store.js';

const T0_MS = Date.parse('2026-11-15T10:00:00.000Z');

/** The in-memory store, counting how often the authenticator reads it; its touches may fail. */
class CountingApiKeyStore extends InMemoryApiKeyStore {
  reads = 0;
  touchError: Error | undefined;
  override async findByHash(secretHash: string) {
    this.reads++;
    return super.findByHash(secretHash);
  }
  override async touch(id: string, nowIso: string) {
    if (this.touchError) throw this.touchError;
    return super.touch(id, nowIso);
  }
}

async function fixture(fields: Partial<ApiKey> = {}) {
  const store = new CountingApiKeyStore();
  const secret = generateApiKeySecret();
  const key: ApiKey = {
    id: newApiKeyId(),
    principal: 'team-data',
    hint: apiKeyHint(secret),
    createdAt: '2026-11-01T00:00:00.000Z',
    ...fields,
  };
  await store.create(key, hashApiKeySecret(secret));
  let nowMs = T0_MS;
  const onTouchFailed = vi.fn();
  const authenticator = createApiKeyAuthenticator({
    store,
    clock: () => nowMs,
    onTouchFailed,
  });
  return {
    store,
    secret,
    key,
    authenticator,
    onTouchFailed,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as AuthenticationError).reason).toBe('invalid');
  return error as AuthenticationError;
}

describe('createApiKeyAuthenticator', () => {
  it("names the key's principal and carries its grant: limits and allowed models", async () => {
    const { authenticator, secret, key } = await fixture({
      name: 'etl',
      monthlyBudgetUsd: 25,
      requestsPerMinute: 5,
      tokensPerMinute: 20_000,
      allowedModels: ['claude-haiku-4-5'],
      expiresAt: '2027-01-01T00:00:00.000Z',
    });

    const principal = await authenticator.verify(secret);

    expect(principal).toEqual({
      userId: 'team-data',
      apiKey: {
        id: key.id,
        monthlyBudgetUsd: 25,
        requestsPerMinute: 5,
        tokensPerMinute: 20_000,
        allowedModels: ['claude-haiku-4-5'],
      },
    });
  });

  it("carries only the id of a key without limits, so its principal's limits apply", async () => {
    const { authenticator, secret, key } = await fixture();

    expect(await authenticator.verify(secret)).toEqual({
      userId: 'team-data',
      apiKey: { id: key.id },
    });
  });

  it('refuses an unknown key', async () => {
    const { authenticator } = await fixture();

    const error = await refusal(authenticator.verify(generateApiKeySecret()));

    // Not "invalid x-api-key": the key may have come as a bearer token.
    expect(error.message).toBe('this API key is not known');
  });

  it('refuses a revoked key', async () => {
    const { authenticator, secret } = await fixture({ revokedAt: '2026-11-14T00:00:00.000Z' });

    const error = await refusal(authenticator.verify(secret));

    expect(error.message).toMatch(/revoked/);
  });

  it('refuses an expired key, saying when it expired', async () => {
    const expiresAt = '2026-11-15T09:59:59.000Z';
    const { authenticator, secret } = await fixture({ expiresAt });

    const error = await refusal(authenticator.verify(secret));

    expect(error.message).toContain(expiresAt);
  });

  it('gives unknown, revoked and expired keys distinct messages', async () => {
    const unknown = await fixture();
    const revoked = await fixture({ revokedAt: '2026-11-14T00:00:00.000Z' });
    const expired = await fixture({ expiresAt: '2026-11-14T00:00:00.000Z' });

    const messages = await Promise.all([
      refusal(unknown.authenticator.verify(generateApiKeySecret())),
      refusal(revoked.authenticator.verify(revoked.secret)),
      refusal(expired.authenticator.verify(expired.secret)),
    ]).then((errors) => errors.map((error) => error.message));

    expect(new Set(messages).size).toBe(3);
  });

  it('refuses a key from the moment it expires, even while it is cached', async () => {
    const { authenticator, secret, advance } = await fixture({
      expiresAt: new Date(T0_MS + 2_000).toISOString(),
    });
    await expect(authenticator.verify(secret)).resolves.toMatchObject({ userId: 'team-data' });

    advance(2_000);

    await refusal(authenticator.verify(secret));
  });

  it('sees a revocation only once what it read is 5 seconds old', async () => {
    const { authenticator, secret, key, store, advance } = await fixture();
    await authenticator.verify(secret);
    await store.revoke(key.id, new Date(T0_MS + 1_000).toISOString());

    advance(4_999);
    await expect(authenticator.verify(secret)).resolves.toMatchObject({ userId: 'team-data' });
    expect(store.reads).toBe(1);

    advance(1);
    const error = await refusal(authenticator.verify(secret));
    expect(error.message).toMatch(/revoked/);
    expect(store.reads).toBe(2);
  });

  it('refuses a key it is told was revoked at once, reading nothing, and still admits the others it read', async () => {
    const { authenticator, secret, key, store } = await fixture();
    const other = generateApiKeySecret();
    await store.create(
      {
        id: newApiKeyId(),
        principal: 'team-web',
        hint: apiKeyHint(other),
        createdAt: key.createdAt,
      },
      hashApiKeySecret(other),
    );
    await authenticator.verify(secret);
    await authenticator.verify(other);
    const revoked = await store.revoke(key.id, new Date(T0_MS).toISOString());

    authenticator.noteRevoked(revoked!);

    const error = await refusal(authenticator.verify(secret));
    expect(error.message).toMatch(/revoked/);
    await expect(authenticator.verify(other)).resolves.toMatchObject({ userId: 'team-web' });
    expect(store.reads).toBe(2);
  });

  it('refuses a key it is told was revoked once its cached read expired, or with none cached, though a read still finds it unrevoked', async () => {
    const { authenticator, secret, key, store, advance } = await fixture();
    await authenticator.verify(secret);
    const unrevoked = await store.findByHash(hashApiKeySecret(secret));
    const revoked = await store.revoke(key.id, new Date(T0_MS).toISOString());
    // An eventually consistent read, a moment after the revocation, as on AWS.
    store.findByHash = async () => unrevoked;
    advance(6_000);

    authenticator.noteRevoked(revoked!);

    expect((await refusal(authenticator.verify(secret))).message).toMatch(/revoked/);
  });

  it('sees changed limits only once what it read is 5 seconds old', async () => {
    const { authenticator, secret, key, store, advance } = await fixture({ monthlyBudgetUsd: 5 });
    await authenticator.verify(secret);
    await store.changeLimits(key.id, { monthlyBudgetUsd: 1 });

    advance(4_999);
    expect((await authenticator.verify(secret)).apiKey?.monthlyBudgetUsd).toBe(5);

    advance(1);
    expect((await authenticator.verify(secret)).apiKey?.monthlyBudgetUsd).toBe(1);
  });

  it('grants a key it is told was changed its new limits at once, reading nothing, and keeps the others it read', async () => {
    const { authenticator, secret, key, store } = await fixture({
      monthlyBudgetUsd: 5,
      allowedModels: ['claude-haiku-4-5'],
    });
    const other = generateApiKeySecret();
    await store.create(
      {
        id: newApiKeyId(),
        principal: 'team-web',
        hint: apiKeyHint(other),
        createdAt: key.createdAt,
      },
      hashApiKeySecret(other),
    );
    await authenticator.verify(secret);
    await authenticator.verify(other);
    const changed = await store.changeLimits(key.id, {
      monthlyBudgetUsd: null,
      requestsPerMinute: 3,
      allowedModels: ['claude-sonnet-4-6'],
    });

    authenticator.noteChanged(changed!);

    expect((await authenticator.verify(secret)).apiKey).toStrictEqual({
      id: key.id,
      requestsPerMinute: 3,
      allowedModels: ['claude-sonnet-4-6'],
    });
    await expect(authenticator.verify(other)).resolves.toMatchObject({ userId: 'team-web' });
    expect(store.reads).toBe(2);
  });

  it('records that a key was used at most once a minute', async () => {
    const { authenticator, secret, key, store, advance } = await fixture();

    await authenticator.verify(secret);
    advance(30_000);
    await authenticator.verify(secret);
    advance(29_999);
    await authenticator.verify(secret);
    advance(1);
    await authenticator.verify(secret);

    expect(store.touches).toEqual([
      { id: key.id, nowIso: '2026-11-15T10:00:00.000Z' },
      { id: key.id, nowIso: '2026-11-15T10:01:00.000Z' },
    ]);
  });

  it('records the use of each key on its own', async () => {
    const { authenticator, secret, key, store } = await fixture();
    const other = generateApiKeySecret();
    const otherKey: ApiKey = {
      id: newApiKeyId(),
      principal: 'team-web',
      hint: apiKeyHint(other),
      createdAt: '2026-11-02T00:00:00.000Z',
    };
    await store.create(otherKey, hashApiKeySecret(other));

    await authenticator.verify(secret);
    await authenticator.verify(other);

    expect(store.touches.map((touch) => touch.id)).toEqual([key.id, otherKey.id]);
  });

  it('remembers the uses of the keys used within the last minute only, however many keys a warm instance has seen', async () => {
    const { authenticator, store, advance } = await fixture();
    const secrets = await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const secret = generateApiKeySecret();
        await store.create(
          {
            id: newApiKeyId(),
            principal: `team-${index}`,
            hint: apiKeyHint(secret),
            createdAt: '2026-11-01T00:00:00.000Z',
          },
          hashApiKeySecret(secret),
        );
        return secret;
      }),
    );

    // Ten new keys a minute for three minutes, as a deployment with a key per customer sees them.
    for (let minute = 0; minute < 3; minute++) {
      for (const secret of secrets.slice(minute * 10, minute * 10 + 10)) {
        await authenticator.verify(secret);
        advance(6_000);
      }
    }

    expect(store.touches).toHaveLength(30);
    expect(authenticator.remembered().touched).toBeLessThanOrEqual(10);
  });

  it('records no use of a refused key', async () => {
    const { authenticator, secret, store } = await fixture({
      revokedAt: '2026-11-14T00:00:00.000Z',
    });

    await refusal(authenticator.verify(secret));

    expect(store.touches).toEqual([]);
  });

  it('reports a use it could not record without failing the request', async () => {
    const { authenticator, secret, store, onTouchFailed } = await fixture();
    const unreachable = new Error('the table is unreachable');
    store.touchError = unreachable;

    await expect(authenticator.verify(secret)).resolves.toMatchObject({ userId: 'team-data' });

    await vi.waitFor(() => expect(onTouchFailed).toHaveBeenCalledWith(unreachable));
  });
});
