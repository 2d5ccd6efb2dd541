import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../../../../shared/adapters/dynamodb/cursor.js';
import { ValidationError } from '../../../../../shared/domain/errors.js';

const OWNER = 'USER#alice#CONVS';
const KEY = {
  pk: 'USER#alice#CONV#conv_1',
  sk: 'META',
  gsi1pk: OWNER,
  gsi1sk: '2026-11-29#conv_1',
};
const codec = new CursorCodec(async () => 'a-test-signing-key');

describe('CursorCodec', () => {
  it('gives back the key it sealed, for the same owner', async () => {
    const cursor = await codec.encode(KEY, OWNER);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('alice');
    await expect(codec.decode(cursor, OWNER)).resolves.toEqual(KEY);
  });

  it('has no cursor for the last page, and no start key without a cursor', async () => {
    await expect(codec.encode(undefined, OWNER)).resolves.toBeUndefined();
    await expect(codec.decode(undefined, OWNER)).resolves.toBeUndefined();
  });

  it("refuses a cursor sealed for another owner's listing", async () => {
    const cursor = await codec.encode(KEY, OWNER);
    await expect(codec.decode(cursor, 'USER#mallory#CONVS')).rejects.toThrow(ValidationError);
  });

  it('refuses a cursor with any byte changed', async () => {
    const cursor = Buffer.from((await codec.encode(KEY, OWNER))!, 'base64url');
    for (const index of [0, 12, cursor.length - 1]) {
      const altered = Buffer.from(cursor);
      altered[index] = (altered[index] ?? 0) ^ 1;
      await expect(codec.decode(altered.toString('base64url'), OWNER)).rejects.toThrow(
        ValidationError,
      );
    }
  });

  it('refuses a forged plain cursor that would pass an owner check, and one sealed with another key', async () => {
    const forged = Buffer.from(JSON.stringify({ gsi1pk: OWNER })).toString('base64url');
    await expect(codec.decode(forged, OWNER)).rejects.toThrow(ValidationError);
    const other = await new CursorCodec(async () => 'another-key').encode(KEY, OWNER);
    await expect(codec.decode(other, OWNER)).rejects.toThrow(ValidationError);
    await expect(codec.decode('', OWNER)).rejects.toThrow(ValidationError);
  });

  it('refuses a cursor too short to hold an IV and a whole tag, never checking a shorter tag', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      for (const length of [12, 16, 20, 28]) {
        const short = Buffer.alloc(length, 7).toString('base64url');
        await expect(codec.decode(short, OWNER)).rejects.toThrow(ValidationError);
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    // Node warns when GCM is given a tag shorter than 16 bytes to check.
    expect(warnings).not.toContain('DEP0182');
  });

  it('passes on a failure to read its secret, rather than calling a good cursor invalid (a 400)', async () => {
    const cursor = await codec.encode(KEY, OWNER);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const unreadable = new CursorCodec(() => Promise.reject(throttled));

    await expect(unreadable.decode(cursor, OWNER)).rejects.toBe(throttled);
  });

  it('follows a rotated secret', async () => {
    let secret = 'first';
    const rotating = new CursorCodec(async () => secret);
    const before = await rotating.encode(KEY, OWNER);
    secret = 'second';
    await expect(rotating.decode(before, OWNER)).rejects.toThrow(ValidationError);
    await expect(rotating.decode(await rotating.encode(KEY, OWNER), OWNER)).resolves.toEqual(KEY);
  });
});
