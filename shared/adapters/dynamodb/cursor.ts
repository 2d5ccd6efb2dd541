import { ValidationError } from '../../domain/errors.js';
import * as z from '../../validation/zod.js';

const KeySchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** Opaque page cursors: DynamoDB's LastEvaluatedKey, base64url JSON. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/**
 * @param ownerPrefix every key a cursor may carry starts with it, so a cursor made
 *   for one user or conversation can never page through another's.
 */
export function decodeCursor(
  cursor: string | undefined,
  ownerPrefix: string,
): Record<string, string | number> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = KeySchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    const partition = key.gsi1pk ?? key.pk;
    if (typeof partition !== 'string' || !partition.startsWith(ownerPrefix)) throw new Error();
    return key;
  } catch {
    throw new ValidationError('cursor is not valid: pass back the nextCursor of a previous page');
  }
}
