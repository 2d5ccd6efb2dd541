import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { hs256Verifier } from '../../../../shared/auth/token-verifier.js';

const SECRET = 'a-test-signing-secret-of-enough-length';

const bearer = async (claims: Record<string, unknown>) =>
  `Bearer ${await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET))}`;

const withAdminClaim = hs256Verifier({
  maxLifetimeSeconds: 3600,
  secret: async () => SECRET,
  adminClaim: { name: 'groups', value: 'admin' },
});

describe('the admin claim', () => {
  it.each([
    ['equal to the value', 'admin'],
    ['a list holding the value', ['x', 'admin']],
  ])('makes an admin of a caller whose claim is %s', async (_, groups) => {
    await expect(withAdminClaim.verify(await bearer({ sub: 'alice', groups }))).resolves.toEqual({
      userId: 'alice',
      admin: true,
    });
  });

  it.each([
    ['a list holding a longer value', ['administrators']],
    ['a string holding the value', 'administrators'],
    ['a value of another case', 'Admin'],
    ['a number', 1],
    ['an object', { admin: true }],
    ['true', true],
    ['null', null],
  ])('makes no admin of a caller whose claim is %s', async (_, groups) => {
    const principal = await withAdminClaim.verify(await bearer({ sub: 'alice', groups }));

    expect(principal).toEqual({ userId: 'alice' });
  });

  it('makes no admin of a caller without the claim', async () => {
    const principal = await withAdminClaim.verify(await bearer({ sub: 'alice', roles: ['admin'] }));

    expect(principal).toEqual({ userId: 'alice' });
  });

  it('makes no admin of anyone when no admin claim is configured', async () => {
    const verifier = hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => SECRET });

    const principal = await verifier.verify(await bearer({ sub: 'alice', groups: 'admin' }));

    expect(principal).toEqual({ userId: 'alice' });
  });
});
