import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { conditionHeld } from '../../../../../shared/adapters/dynamodb/errors.js';

const metadata = { $metadata: {} };

describe('conditionHeld', () => {
  it('is true once the write is made', async () => {
    expect(await conditionHeld(Promise.resolve({}))).toBe(true);
  });

  it('is false when its condition failed, alone or in a transaction', async () => {
    const alone = new ConditionalCheckFailedException({ message: 'failed', ...metadata });
    const inTransaction = new TransactionCanceledException({
      message: 'cancelled',
      ...metadata,
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });

    expect(await conditionHeld(Promise.reject(alone))).toBe(false);
    expect(await conditionHeld(Promise.reject(inTransaction))).toBe(false);
  });

  it('throws any other failure, a transaction conflict included', async () => {
    const conflict = new TransactionCanceledException({
      message: 'cancelled',
      ...metadata,
      CancellationReasons: [{ Code: 'TransactionConflict' }],
    });
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });

    await expect(conditionHeld(Promise.reject(conflict))).rejects.toBe(conflict);
    await expect(conditionHeld(Promise.reject(throttled))).rejects.toBe(throttled);
  });
});
