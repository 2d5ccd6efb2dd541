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

      expect(claims.filter(({ claimed }) => claimed)).toHaveLength(1);
    });

    it('keeps notices of other thresholds, months, users, keys and the deployment apart', async () => {
      const notices = await subject();
      const userId = `contract-${randomUUID()}`;
      const month = `2${String(Math.floor(Math.random() * 999)).padStart(3, '0')}-01`;

      expect(await notices.claim({ scope: 'principal', userId }, month, 50)).toEqual({
        claimed: true,
      });
      expect(await notices.claim({ scope: 'principal', userId }, month, 80)).toEqual({
        claimed: true,
      });
      expect(await notices.claim({ scope: 'principal', userId }, '2099-12', 50)).toEqual({
        claimed: true,
      });
      expect(await notices.claim({ scope: 'principal', userId: `${userId}-2` }, month, 50)).toEqual(
        { claimed: true },
      );
      // A key named like the user is another scope.
      expect(await notices.claim({ scope: 'key', keyId: userId }, month, 50)).toEqual({
        claimed: true,
      });
      expect(await notices.claim({ scope: 'key', keyId: userId }, month, 50)).toMatchObject({
        claimed: false,
      });
      expect(await notices.claim({ scope: 'deployment' }, month, 50)).toEqual({ claimed: true });
      expect(await notices.claim({ scope: 'deployment' }, month, 50)).toMatchObject({
        claimed: false,
      });
    });

    it('says, refusing a claim, when the notice was claimed', async () => {
      const notices = await subject();
      const scope = { scope: 'key' as const, keyId: `contract-${randomUUID()}` };
      const before = Date.now();
      await notices.claim(scope, '2026-11', 80);

      const refused = await notices.claim(scope, '2026-11', 80);

      expect(refused.claimed).toBe(false);
      const claimedAtMs = refused.claimed ? undefined : refused.claimedAtMs;
      expect(claimedAtMs).toBeGreaterThanOrEqual(before - 1_000);
      expect(claimedAtMs).toBeLessThanOrEqual(Date.now() + 1_000);
    });

    it('can claim a notice again once it was released', async () => {
      const notices = await subject();
      const scope = { scope: 'principal' as const, userId: `contract-${randomUUID()}` };
      await notices.claim(scope, '2026-11', 100);

      await notices.release(scope, '2026-11', 100);

      expect(await notices.claim(scope, '2026-11', 100)).toEqual({ claimed: true });
    });
  });
}
