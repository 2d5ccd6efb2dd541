import { describe, expect, it } from 'vitest';
import { newReservationId } from '../../../../shared/domain/ids.js';

describe('newReservationId', () => {
  it('is 16 characters a DynamoDB key or attribute name takes as they are', () => {
    expect(newReservationId()).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('does not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newReservationId));
    expect(ids.size).toBe(10_000);
  });
});
