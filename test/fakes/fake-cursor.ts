import { createHash } from 'node:crypto';
import { ValidationError } from '../../shared/domain/errors.js';

/**
 * Page cursors of the in-memory fakes: a position bound to its listing's owner, with a
 * checksum so that an altered one fails, as the adapter's sealed cursors do.
 */
export function encodeCursor(owner: string, position: string): string {
  const payload = JSON.stringify({ owner, position });
  return Buffer.from(JSON.stringify({ payload, sum: checksum(payload) })).toString('base64url');
}

/** @throws ValidationError for a cursor not made by {@link encodeCursor} for `owner` */
export function decodeCursor(cursor: string | undefined, owner: string): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const { payload, sum } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const decoded = JSON.parse(payload);
    if (sum !== checksum(payload) || decoded.owner !== owner) throw new Error();
    if (typeof decoded.position !== 'string') throw new Error();
    return decoded.position;
  } catch {
    throw new ValidationError('cursor is not valid: pass back the nextCursor of a previous page');
  }
}

const checksum = (payload: string) => createHash('sha256').update(payload).digest('base64url');
