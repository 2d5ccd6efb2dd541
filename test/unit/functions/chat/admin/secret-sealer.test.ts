import { describe, expect, it } from 'vitest';
import { SecretSealer } from '../../../../../functions/chat/admin/secret-sealer.js';

const SECRET = 'csk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const scope = { idempotencyKey: '6f1c2b3a-retry-me', requestId: 'a'.repeat(64) };
const sealerWith = (signingKey: string) => new SecretSealer(async () => signingKey);

describe('SecretSealer', () => {
  it('opens what it sealed for the same request, and the sealed text shows nothing of the secret', async () => {
    const sealer = sealerWith('the-signing-key');

    const sealed = await sealer.seal(SECRET, scope);

    expect(sealed).not.toContain(SECRET.slice(4, 12));
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain(SECRET.slice(4, 12));
    expect(await sealer.open(sealed, scope)).toBe(SECRET);
  });

  it('seals the same secret differently each time', async () => {
    const sealer = sealerWith('the-signing-key');

    expect(await sealer.seal(SECRET, scope)).not.toBe(await sealer.seal(SECRET, scope));
  });

  const others: Record<string, [string, typeof scope]> = {
    'another Idempotency-Key': [
      'the-signing-key',
      { ...scope, idempotencyKey: '6f1c2b3a-retry-mE' },
    ],
    'another request (record)': ['the-signing-key', { ...scope, requestId: 'b'.repeat(64) }],
    'another signing key': ['a-rotated-signing-key', scope],
  };
  for (const [what, [signingKey, otherScope]] of Object.entries(others)) {
    it(`opens nothing with ${what}`, async () => {
      const sealed = await sealerWith('the-signing-key').seal(SECRET, scope);

      expect(await sealerWith(signingKey).open(sealed, otherScope)).toBeUndefined();
    });
  }

  it('opens nothing that was altered, cut or is no seal at all', async () => {
    const sealer = sealerWith('the-signing-key');
    const sealed = await sealer.seal(SECRET, scope);
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1;

    for (const forged of [bytes.toString('base64url'), sealed.slice(0, -4), '', 'not a seal']) {
      expect(await sealer.open(forged, scope)).toBeUndefined();
    }
  });

  it('fails, rather than opening nothing, when the signing key cannot be read', async () => {
    const sealed = await sealerWith('the-signing-key').seal(SECRET, scope);
    const unreadable = new SecretSealer(async () => {
      throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    });

    await expect(unreadable.open(sealed, scope)).rejects.toThrow('throttled');
  });
});
