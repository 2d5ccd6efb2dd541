import { describe, expect, it } from 'vitest';
import { newReservationId, reservationIdExpiry } from '../../../../shared/domain/ids.js';

const EXPIRY = Date.parse('2026-11-30T12:34:56.789Z');

describe('newReservationId', () => {
  it('is 16 characters a DynamoDB key or attribute name takes as they are', () => {
    expect(newReservationId(EXPIRY)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('does not repeat, even for one expiry', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newReservationId(EXPIRY)));
    expect(ids.size).toBe(10_000);
  });

  it('carries its expiry, to the millisecond', () => {
    for (const expiresAtMs of [EXPIRY, EXPIRY + 1, 0, 2 ** 48 - 1]) {
      expect(reservationIdExpiry(newReservationId(expiresAtMs))).toBe(expiresAtMs);
    }
  });

  it('gives no expiry for an id it did not make', () => {
    for (const id of ['', 'res_1', '0123456789abcdef0', 'hold/with/slash!']) {
      expect(reservationIdExpiry(id)).toBeUndefined();
    }
  });
});
