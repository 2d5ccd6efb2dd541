import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKeyAuthenticator } from '../../../../shared/auth/api-key-authenticator.js';
import { createCredentialVerifier } from '../../../../shared/auth/credentials.js';
import { hs256Verifier } from '../../../../shared/auth/token-verifier.js';
import {
  apiKeyHint,
  generateApiKeySecret,
  hashApiKeySecret,
} from '../../../../shared/domain/api-key.js';
import { AuthenticationError } from '../../../../shared/domain/errors.js';
import { InMemoryApiKeyStore } from '../../../fakes/in-memory-api-key-store.js';

const SECRET = 'a-test-signing-secret-of-enough-length';
const KEY_ID = `key_${'a'.repeat(32)}`;

const signedToken = (sub: string) =>
  new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

describe('createCredentialVerifier', () => {
  let apiKey: string;
  let jwt: string;
  let verifier: ReturnType<typeof createCredentialVerifier>;

  beforeEach(async () => {
    const store = new InMemoryApiKeyStore();
    apiKey = generateApiKeySecret();
    await store.create(
      {
        id: KEY_ID,
        principal: 'team-data',
        hint: apiKeyHint(apiKey),
        createdAt: '2026-11-01T00:00:00.000Z',
      },
      hashApiKeySecret(apiKey),
    );
    jwt = await signedToken('alice');
    verifier = createCredentialVerifier({
      tokens: hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => SECRET }),
      apiKeys: createApiKeyAuthenticator({
        store,
        clock: Date.now,
        onTouchFailed: () => {},
      }),
    });
  });

  const keyPrincipal = () => ({ userId: 'team-data', apiKey: { id: KEY_ID } });

  it('verifies an API key sent as a bearer token with the API keys', async () => {
    await expect(verifier.verify({ authorization: `Bearer ${apiKey}` })).resolves.toEqual(
      keyPrincipal(),
    );
  });

  it('verifies an API key sent as x-api-key with the API keys', async () => {
    await expect(verifier.verify({ apiKey })).resolves.toEqual(keyPrincipal());
  });

  it('verifies a JWT sent as a bearer token with the token verifier', async () => {
    await expect(verifier.verify({ authorization: `Bearer ${jwt}` })).resolves.toEqual({
      userId: 'alice',
    });
  });

  it('verifies a JWT sent as x-api-key with the token verifier', async () => {
    await expect(verifier.verify({ apiKey: jwt })).resolves.toEqual({ userId: 'alice' });
  });

  it('prefers x-api-key to Authorization', async () => {
    await expect(verifier.verify({ apiKey, authorization: `Bearer ${jwt}` })).resolves.toEqual(
      keyPrincipal(),
    );
    await expect(
      verifier.verify({ apiKey: jwt, authorization: `Bearer ${apiKey}` }),
    ).resolves.toEqual({ userId: 'alice' });
  });

  it('reads the bearer scheme case-insensitively', async () => {
    await expect(verifier.verify({ authorization: `bearer ${apiKey}` })).resolves.toEqual(
      keyPrincipal(),
    );
  });

  it('falls back to Authorization when x-api-key is blank', async () => {
    await expect(
      verifier.verify({ apiKey: '   ', authorization: `Bearer ${jwt}` }),
    ).resolves.toEqual({ userId: 'alice' });
  });

  it.each([
    ['nothing', {}],
    ['a Basic authorization', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ['a bearer scheme without a token', { authorization: 'Bearer ' }],
    ['a blank x-api-key', { apiKey: '  ' }],
  ])('says credentials are missing when it is given %s', async (_, presented) => {
    await expect(verifier.verify(presented)).rejects.toMatchObject({
      name: 'AuthenticationError',
      reason: 'missing',
    });
  });

  it('says the Authorization header holds no single bearer token when it holds two', async () => {
    const twice = verifier.verify({ authorization: `Bearer ${jwt}, Bearer ${jwt}` });

    await expect(twice).rejects.toMatchObject({ reason: 'missing' });
    await expect(twice).rejects.toThrow(/^the Authorization header holds no single bearer token/);
  });

  it('refuses an unknown API key as invalid', async () => {
    const refused = verifier.verify({ apiKey: generateApiKeySecret() });

    await expect(refused).rejects.toThrow(AuthenticationError);
    await expect(refused).rejects.toMatchObject({ reason: 'invalid' });
  });

  it.each([
    ['an Anthropic API key', 'sk-ant-api03-abcdefghijklmnop', /an Anthropic API key/],
    ['anything else', 'hunter2', /neither an API key of this gateway nor a JWT/],
  ])('says what it was sent when given %s, without echoing it', async (_, credential, says) => {
    for (const presented of [{ apiKey: credential }, { authorization: `Bearer ${credential}` }]) {
      const refused = verifier.verify(presented);

      await expect(refused).rejects.toMatchObject({
        name: 'AuthenticationError',
        reason: 'invalid',
      });
      await expect(refused).rejects.toThrow(says);
      await expect(refused).rejects.not.toThrow(credential);
    }
  });

  it('refuses a forged JWT as invalid', async () => {
    const forged = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-of-enough-length'));

    await expect(verifier.verify({ apiKey: forged })).rejects.toMatchObject({
      name: 'AuthenticationError',
      reason: 'invalid',
    });
  });
});
