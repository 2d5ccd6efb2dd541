import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BudgetNotices } from '../../shared/ports/budget-notices.js';

/** The BudgetNotices port's behaviour, for the in-memory fake and the DynamoDB adapter. */
export function budgetNoticesContract(subject: () => Promise<BudgetNotices>) {
  describe('claim', () => {
    it('lets one claim of many racing for a notice win', async () => {
      const notices = await subject();
      const scope = { scope: 'principal' as const, userId: `contract-${randomUUID()}` };

      const claims = await Promise.all(
        Array.from({ length: 6 }, () => notices.claim(scope, '2026-11', 80)),
      );

      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('keeps notices of other thresholds, months, users, keys and the deployment apart', async () => {
      const notices = await subject();
      const userId = `contract-${randomUUID()}`;
      const month = `2${String(Math.floor(Math.random() * 999)).padStart(3, '0')}-01`;

      expect(await notices.claim({ scope: 'principal', userId }, month, 50)).toBe(true);
      expect(await notices.claim({ scope: 'principal', userId }, month, 80)).toBe(true);
      expect(await notices.claim({ scope: 'principal', userId }, '2099-12', 50)).toBe(true);
      expect(await notices.claim({ scope: 'principal', userId: `${userId}-2` }, month, 50)).toBe(
        true,
      );
      // A key named like the user is another scope.
      expect(await notices.claim({ scope: 'key', keyId: userId }, month, 50)).toBe(true);
      expect(await notices.claim({ scope: 'key', keyId: userId }, month, 50)).toBe(false);
      expect(await notices.claim({ scope: 'deployment' }, month, 50)).toBe(true);
      expect(await notices.claim({ scope: 'deployment' }, month, 50)).toBe(false);
    });

    it('can claim a notice again once it was released', async () => {
      const notices = await subject();
      const scope = { scope: 'principal' as const, userId: `contract-${randomUUID()}` };
      await notices.claim(scope, '2026-11', 100);

      await notices.release(scope, '2026-11', 100);

      expect(await notices.claim(scope, '2026-11', 100)).toBe(true);
    });
  });
}
