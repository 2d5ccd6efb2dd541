import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed secret is bound to: the request whose retries may open it. */
export interface SealScope {
  /** The caller's own Idempotency-Key: never stored, so what is stored opens nothing alone. */
  idempotencyKey: string;
  /** The digest naming the request (its record's key): a seal moved to another record fails. */
  requestId: string;
}

/**
 * Seals an API key's secret for the retries of the request that made it: AES-256-GCM under
 * a key derived (HKDF-SHA-256) from the deployment's signing key and the caller's
 * Idempotency-Key, with the request's digest as associated data. Opening it takes the
 * table's record, the signing key (Secrets Manager) and the Idempotency-Key, which only the
 * caller holds; the record goes with its TTL, and with it any way back to the secret.
 */
export class SecretSealer {
  /** @param signingKey the deployment's signing key; called per use, so it may rotate */
  constructor(private readonly signingKey: () => Promise<string>) {}

  async seal(secret: string, scope: SealScope): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.keyFor(scope), iv).setAAD(
      Buffer.from(scope.requestId),
    );
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The secret, or undefined when this seal does not open with `scope` and the signing key now. */
  async open(sealed: string, scope: SealScope): Promise<string | undefined> {
    // Outside the try: a signing key that cannot be read (a throttle) is no broken seal.
    const key = await this.keyFor(scope);
    try {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv(
        'aes-256-gcm',
        key,
        bytes.subarray(0, IV_BYTES),
        // The whole tag, always: GCM would otherwise check as few bytes as it is given.
        { authTagLength: TAG_BYTES },
      )
        .setAAD(Buffer.from(scope.requestId))
        .setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const secret = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
      return Buffer.concat([secret, decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private async keyFor(scope: SealScope): Promise<Buffer> {
    const derived = hkdfSync(
      'sha256',
      await this.signingKey(),
      scope.idempotencyKey,
      `api-key-replay:${scope.requestId}`,
      32,
    );
    return Buffer.from(derived);
  }
}
