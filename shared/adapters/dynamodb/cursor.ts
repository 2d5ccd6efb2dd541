import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '../../domain/errors.js';
import { maxChars } from '../../validation/max-chars.js';
import * as z from '../../validation/zod.js';

/** A DynamoDB key as a page cursor may carry it: strings only, as every key of the table is. */
const KeySchema = z.partialRecord(
  z.enum(['pk', 'sk', 'gsi1pk', 'gsi1sk']),
  z.string().check(z.minLength(1), ...maxChars(1024)),
);

type Key = Record<string, string>;

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Page cursors: DynamoDB's LastEvaluatedKey, encrypted and authenticated (AES-256-GCM)
 * with the owner's partition as associated data. A cursor is opaque; one that was
 * altered, forged, or made for another user's or conversation's listing is refused
 * (400) before it reaches DynamoDB.
 */
export class CursorCodec {
  private derived: { secret: string; key: Buffer } | undefined;

  /** @param secret the signing secret; called per use, so a cached secret can rotate */
  constructor(private readonly secret: () => Promise<string>) {}

  async encode(lastKey: Record<string, unknown> | undefined, owner: string) {
    if (!lastKey) return undefined;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv).setAAD(Buffer.from(owner));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(lastKey)), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** @throws ValidationError for any cursor this codec did not make for `owner` */
  async decode(cursor: string | undefined, owner: string): Promise<Key | undefined> {
    if (cursor === undefined) return undefined;
    // Outside the try: a secret that cannot be read (a throttle) is no fault of the cursor's.
    const key = await this.key();
    try {
      const bytes = Buffer.from(cursor, 'base64url');
      if (bytes.length <= IV_BYTES + TAG_BYTES) throw new Error('too short to be a cursor');
      const iv = bytes.subarray(0, IV_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      // The whole tag, always: GCM would otherwise check as few bytes as it is given.
      const decipher = createDecipheriv('aes-256-gcm', key, iv, {
        authTagLength: TAG_BYTES,
      })
        .setAAD(Buffer.from(owner))
        .setAuthTag(tag);
      const sealed = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      const plain = Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
      return KeySchema.parse(JSON.parse(plain));
    } catch {
      throw new ValidationError('cursor is not valid: pass back the nextCursor of a previous page');
    }
  }

  private async key(): Promise<Buffer> {
    const secret = await this.secret();
    if (this.derived?.secret !== secret) {
      this.derived = { secret, key: createHash('sha256').update(`cursor:${secret}`).digest() };
    }
    return this.derived.key;
  }
}
