import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerKeySet, issuerKeySetUrl } from '../../../../shared/auth/issuer-key-set.js';
import { KeySetUnavailableError } from '../../../../shared/auth/key-set-unavailable-error.js';
import { hs256Verifier, oidcVerifier } from '../../../../shared/auth/token-verifier.js';
import { AuthenticationError } from '../../../../shared/domain/errors.js';

const SECRET = 'a-test-signing-secret-of-enough-length';
const sign = (claims: Record<string, unknown>, secret = SECRET, expiresIn = '5m') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));

describe('hs256Verifier', () => {
  const verifier = hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => SECRET });

  it('passes on a failure to read its secret, rather than calling a good token invalid', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const unreadable = hs256Verifier({
      maxLifetimeSeconds: 3600,
      secret: () => Promise.reject(throttled),
    });

    await expect(unreadable.verify(`Bearer ${await sign({ sub: 'user-1' })}`)).rejects.toBe(
      throttled,
    );
  });

  it('names the caller by the sub claim', async () => {
    await expect(verifier.verify(`Bearer ${await sign({ sub: 'user-1' })}`)).resolves.toEqual({
      userId: 'user-1',
    });
  });

  it.each([
    ['missing', undefined],
    ['not a bearer token', 'Basic abc'],
    ['malformed', 'Bearer not.a.jwt'],
  ])('rejects a %s token', async (_, header) => {
    await expect(verifier.verify(header)).rejects.toThrow(AuthenticationError);
  });

  it.each(['.', '..', '...'])(
    'rejects a sub of dots only (%s), as job ids: a URL resolves . and .. away, out of reach of admin routes',
    async (sub) => {
      await expect(verifier.verify(`Bearer ${await sign({ sub })}`)).rejects.toThrow(
        AuthenticationError,
      );
    },
  );

  it('accepts a sub with dots among other characters', async () => {
    await expect(verifier.verify(`Bearer ${await sign({ sub: '.a.' })}`)).resolves.toMatchObject({
      userId: '.a.',
    });
  });

  it('rejects an expired token', async () => {
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(AuthenticationError);
  });

  it("takes a token this long before its nbf and after its exp, for the issuer's clock, and no longer", async () => {
    const tolerant = hs256Verifier({
      maxLifetimeSeconds: 3600,
      clockToleranceSeconds: 30,
      secret: async () => SECRET,
    });
    const now = Math.floor(Date.now() / 1000);
    const token = (notBefore: number, expires: number) =>
      new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setNotBefore(notBefore)
        .setExpirationTime(expires)
        .sign(new TextEncoder().encode(SECRET));

    await expect(tolerant.verify(`Bearer ${await token(now + 10, now + 300)}`)).resolves.toEqual({
      userId: 'u',
    });
    await expect(tolerant.verify(`Bearer ${await token(now - 300, now - 10)}`)).resolves.toEqual({
      userId: 'u',
    });
    for (const [notBefore, expires] of [
      [now + 60, now + 300],
      [now - 300, now - 60],
    ]) {
      await expect(tolerant.verify(`Bearer ${await token(notBefore!, expires!)}`)).rejects.toThrow(
        AuthenticationError,
      );
    }
    // Without a tolerance, a token a second early is refused.
    await expect(verifier.verify(`Bearer ${await token(now + 10, now + 300)}`)).rejects.toThrow(
      AuthenticationError,
    );
  });

  it('takes a token living as long as the cap from an issuer whose clock is ahead, within the tolerance, and caps one further ahead', async () => {
    const tolerant = hs256Verifier({
      maxLifetimeSeconds: 3600,
      clockToleranceSeconds: 30,
      secret: async () => SECRET,
    });
    const now = Math.floor(Date.now() / 1000);
    // Issued "now" by a clock `ahead` seconds ahead of ours, for the longest lifetime allowed.
    const issuedAhead = (ahead: number) =>
      new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(now + ahead)
        .setExpirationTime(now + ahead + 3600)
        .sign(new TextEncoder().encode(SECRET));

    await expect(tolerant.verify(`Bearer ${await issuedAhead(5)}`)).resolves.toEqual({
      userId: 'u',
    });
    await expect(tolerant.verify(`Bearer ${await issuedAhead(120)}`)).rejects.toThrow(
      /lives longer than 3600 seconds/,
    );
  });

  it('rejects a token signed with another secret', async () => {
    await expect(
      verifier.verify(`Bearer ${await sign({ sub: 'u' }, 'another-secret-entirely')}`),
    ).rejects.toThrow(AuthenticationError);
  });

  it('rejects alg none', async () => {
    const token = new UnsecuredJWT({ sub: 'u' }).setExpirationTime('5m').encode();
    await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(AuthenticationError);
  });

  it('rejects a token without sub', async () => {
    await expect(verifier.verify(`Bearer ${await sign({})}`)).rejects.toThrow(/sub/);
  });

  it.each([
    ['a number', 42],
    ['an array naming another user', ['bob']],
    ['an object', { id: 'bob' }],
    ['an empty string', ''],
    ['a string with characters keys cannot hold', 'alice#CONV#x'],
    ["an IAM admin's user id (an AWS_IAM URL's)", 'iam:arn:aws:iam::123456789012:role_ops'],
  ])('rejects a validly signed token whose sub is %s, never coercing it', async (_, sub) => {
    const token = await sign({ sub });
    await expect(verifier.verify(`Bearer ${token}`)).rejects.toMatchObject({
      name: 'AuthenticationError',
      reason: 'invalid',
    });
  });

  it('rejects a token without exp', async () => {
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(AuthenticationError);
  });

  it('rejects a token that lives longer than the cap, with or without iat', async () => {
    await expect(
      verifier.verify(`Bearer ${await sign({ sub: 'u' }, SECRET, '2h')}`),
    ).rejects.toThrow(/longer than 3600 seconds/);
    const withoutIat = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifier.verify(`Bearer ${withoutIat}`)).rejects.toThrow(/longer than/);
    await expect(
      verifier.verify(`Bearer ${await sign({ sub: 'u' }, SECRET, '59m')}`),
    ).resolves.toEqual({ userId: 'u' });
  });

  it('rejects a token whose iat is in the future to stretch its lifetime past the cap', async () => {
    const inTenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 86_400;
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(inTenYears)
      .setExpirationTime(inTenYears + 3_000)
      .sign(new TextEncoder().encode(SECRET));

    await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(/longer than 3600 seconds/);
  });

  it('follows a rotated secret: the new one verifies, the old one no longer does', async () => {
    let current = SECRET;
    const rotating = hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => current });
    const before = await sign({ sub: 'u' });
    await expect(rotating.verify(`Bearer ${before}`)).resolves.toEqual({ userId: 'u' });

    current = 'the-next-signing-secret-of-enough-length';

    await expect(rotating.verify(`Bearer ${before}`)).rejects.toThrow(AuthenticationError);
    await expect(rotating.verify(`Bearer ${await sign({ sub: 'u' }, current)}`)).resolves.toEqual({
      userId: 'u',
    });
  });

  it('checks issuer and audience when configured', async () => {
    const strict = hs256Verifier({
      maxLifetimeSeconds: 3600,
      secret: async () => SECRET,
      issuer: 'me',
      audience: 'app',
    });
    await expect(
      strict.verify(`Bearer ${await sign({ sub: 'u', iss: 'me', aud: 'app' })}`),
    ).resolves.toEqual({ userId: 'u' });
    await expect(
      strict.verify(`Bearer ${await sign({ sub: 'u', iss: 'other', aud: 'app' })}`),
    ).rejects.toThrow(AuthenticationError);
    await expect(
      strict.verify(`Bearer ${await sign({ sub: 'u', iss: 'me', aud: 'other' })}`),
    ).rejects.toThrow(AuthenticationError);
  });
});

describe('oidcVerifier', () => {
  let server: Server;
  let issuer: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/.well-known/jwks.json' ? JSON.stringify({ keys: [jwk] }) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A verifier reading the keys where `issuer` publishes them by default. */
  const verifierOf = (issuer: string) =>
    oidcVerifier({
      maxLifetimeSeconds: 3600,
      issuer,
      audience: 'app',
      keySet: issuerKeySet(issuerKeySetUrl({ issuer })),
    });
  const signRs = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(privateKey);

  it("accepts a token signed by the issuer's key for the audience", async () => {
    const verifier = verifierOf(issuer);
    await expect(
      verifier.verify(`Bearer ${await signRs({ sub: 'u-9', iss: issuer, aud: 'app' })}`),
    ).resolves.toEqual({
      userId: 'u-9',
    });
  });

  it('passes on a JWKS that cannot be read (the issuer answers 503), rather than calling a good token invalid', async () => {
    const failing = createServer((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const unavailable = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
      const verifier = verifierOf(unavailable);
      const token = await signRs({ sub: 'u-9', iss: unavailable, aud: 'app' });

      const error = await verifier.verify(`Bearer ${token}`).catch((e: unknown) => e);

      expect(error).not.toBeInstanceOf(AuthenticationError);
      expect(error).toBeInstanceOf(KeySetUnavailableError);
    } finally {
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });

  it('tries each key of a set that names no kid, as an issuer rotating without kids publishes', async () => {
    const [older, newer, unknown] = await Promise.all(
      [1, 2, 3].map(() => generateKeyPair('RS256', { extractable: true })),
    );
    const published = await Promise.all(
      [older!, newer!].map(async (pair) => ({
        ...(await exportJWK(pair.publicKey)),
        alg: 'RS256',
      })),
    );
    const rotating = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => rotating.listen(0, '127.0.0.1', resolve));
    try {
      const rotatingIssuer = `http://127.0.0.1:${(rotating.address() as AddressInfo).port}`;
      const verifier = verifierOf(rotatingIssuer);
      const signedBy = (pair: typeof older, expiresIn = '5m') =>
        new SignJWT({ sub: 'u-7', iss: rotatingIssuer, aud: 'app' })
          .setProtectedHeader({ alg: 'RS256' })
          .setExpirationTime(expiresIn)
          .sign(pair!.privateKey);

      await expect(verifier.verify(`Bearer ${await signedBy(older)}`)).resolves.toEqual({
        userId: 'u-7',
      });
      await expect(verifier.verify(`Bearer ${await signedBy(newer)}`)).resolves.toEqual({
        userId: 'u-7',
      });
      await expect(verifier.verify(`Bearer ${await signedBy(unknown)}`)).rejects.toThrow(
        /signature verification failed/,
      );
      await expect(verifier.verify(`Bearer ${await signedBy(newer, '-1m')}`)).rejects.toThrow(
        /"exp" claim timestamp check failed/,
      );
    } finally {
      await new Promise<void>((resolve) => rotating.close(() => resolve()));
    }
  });

  it('rejects another issuer, another audience, and an HS256 token', async () => {
    const verifier = verifierOf(issuer);
    await expect(
      verifier.verify(`Bearer ${await signRs({ sub: 'u', iss: 'https://evil', aud: 'app' })}`),
    ).rejects.toThrow(AuthenticationError);
    await expect(
      verifier.verify(`Bearer ${await signRs({ sub: 'u', iss: issuer, aud: 'other' })}`),
    ).rejects.toThrow(AuthenticationError);
    await expect(
      verifier.verify(`Bearer ${await sign({ sub: 'u', iss: issuer, aud: 'app' })}`),
    ).rejects.toThrow(AuthenticationError);
  });
});
