import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { PayloadTooLargeError } from '../../domain/errors.js';
import { utf8Bytes } from '../../domain/tokens.js';

type CancellationReasons = Array<{ Code?: string } | undefined>;

function cancellationReasons(error: unknown): CancellationReasons | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  return (error as { CancellationReasons?: CancellationReasons }).CancellationReasons ?? [];
}

/** A failed condition, alone or inside a cancelled transaction. Decided by `name`, never message text. */
export function isConditionFailure(error: unknown): boolean {
  if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return true;
  return (
    cancellationReasons(error)?.some((reason) => reason?.Code === 'ConditionalCheckFailed') ?? false
  );
}

/** Which items of a cancelled transaction failed their condition, by index. */
export function failedConditions(error: unknown): number[] {
  return (cancellationReasons(error) ?? []).flatMap((reason, index) =>
    reason?.Code === 'ConditionalCheckFailed' ? [index] : [],
  );
}

/** Another transaction touched the same items at the same moment: safe to retry. */
export function isTransactionConflict(error: unknown): boolean {
  const reasons = cancellationReasons(error);
  if (reasons) {
    return (
      reasons.some((reason) => reason?.Code === 'TransactionConflict') &&
      !reasons.some((reason) => reason?.Code === 'ConditionalCheckFailed')
    );
  }
  return error instanceof Error && error.name === 'TransactionConflictException';
}

/**
 * The item as it was when a write's condition failed, when the write asked for it
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`) and it was there. The document client
 * leaves it marshalled; this unmarshalls it.
 */
export function failedItem(error: unknown): Record<string, unknown> | undefined {
  if (!(error instanceof Error) || error.name !== 'ConditionalCheckFailedException') return;
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item && unmarshall(item);
}

/**
 * DynamoDB refused a write as invalid: alone (`ValidationException`) or inside a cancelled
 * transaction (`ValidationError`). On a write whose expressions are fixed, what its data can
 * make invalid is the size: an item over 400 KB. Decided by name: the message differs from
 * AWS's locally.
 */
export function isRefusedAsInvalid(error: unknown): boolean {
  if (error instanceof Error && error.name === 'ValidationException') return true;
  return cancellationReasons(error)?.some((reason) => reason?.Code === 'ValidationError') ?? false;
}

/**
 * A write of `text` DynamoDB refused as invalid, as the domain's PayloadTooLargeError: sending
 * it again is refused again. Anything else is returned as it is.
 */
export function tooLargeToStore(error: unknown, what: string, text: string): unknown {
  if (!isRefusedAsInvalid(error)) return error;
  return new PayloadTooLargeError(
    `${what} (${utf8Bytes(text)} bytes) is too large to store: a DynamoDB item holds at most 400 KB`,
    { cause: error },
  );
}

/**
 * Whether a conditional write was made: false when its condition (or, in a transaction, one
 * of its items') failed. Any other failure is thrown.
 */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
