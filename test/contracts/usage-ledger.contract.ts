import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../../shared/domain/errors.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';

export interface UsageLedgerSubject {
  /** A ledger with nothing in it: reclaiming and the global spend see the whole ledger. */
  ledger: UsageLedger;
}

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const NOVEMBER = '2026-11';
/** Budgets under $20, which the adapter keeps in one exact global shard. */
const USER_BUDGET_NANO_USD = 1_000;
const GLOBAL_BUDGET_NANO_USD = 1_000_000;

const ZERO_COUNTS: Partial<TokenUsage> = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

const newUserId = () => `contract-${randomUUID()}`;

const usageOf = (fields: Partial<TokenUsage> = {}): TokenUsage => ({
  inputTokens: 120,
  outputTokens: 30,
  cacheReadInputTokens: 10,
  cacheCreationInputTokens: 8,
  ...fields,
});

/**
 * The UsageLedger port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * `subject` is called before every test and must return an empty ledger.
 */
export function usageLedgerContract(subject: () => Promise<UsageLedgerSubject>) {
  let ledger: UsageLedger;
  let userId: string;
  beforeEach(async () => {
    ({ ledger } = await subject());
    userId = newUserId();
  });

  const reserve = (fields: Partial<Parameters<UsageLedger['reserve']>[0]> = {}) =>
    ledger.reserve({
      userId,
      amountNanoUsd: 400,
      userDefaultBudgetNanoUsd: USER_BUDGET_NANO_USD,
      globalBudgetNanoUsd: GLOBAL_BUDGET_NANO_USD,
      nowMs: T0,
      expiresAtMs: T0 + 60_000,
      ...fields,
    });

  const held = async (user = userId, month = NOVEMBER) =>
    (await ledger.userMonth(user, month)).heldNanoUsd;

  describe('reserve', () => {
    it("holds the amount against the user's month until it settles", async () => {
      const reservation = await reserve({ amountNanoUsd: 400 });

      expect(reservation).toEqual({
        id: expect.any(String),
        userId,
        month: NOVEMBER,
        shard: expect.any(Number),
        amountNanoUsd: 400,
        expiresAtMs: T0 + 60_000,
      });
      expect(await ledger.userMonth(userId, NOVEMBER)).toEqual({
        month: NOVEMBER,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
        spentNanoUsd: 0,
        heldNanoUsd: 400,
      });
    });

    it('gives every reservation its own id', async () => {
      const first = await reserve({ amountNanoUsd: 100 });
      const second = await reserve({ amountNanoUsd: 100 });

      expect(first.id).not.toBe(second.id);
    });

    it("refuses a reservation that does not fit the user's budget beside what is held", async () => {
      await reserve({ amountNanoUsd: 600 });

      const more = reserve({ amountNanoUsd: 500 });

      await expect(more).rejects.toBeInstanceOf(BudgetExceededError);
      expect(await held()).toBe(600);
    });

    it('says whether only what calls in flight hold stands in the way, or what is spent', async () => {
      const inFlight = await reserve({ amountNanoUsd: 600 });
      const whileHeld = await reserve({ amountNanoUsd: 500 }).catch((error: unknown) => error);
      await ledger.settle(inFlight, { usage: usageOf(), costNanoUsd: 600 });
      const whenSpent = await reserve({ amountNanoUsd: 500 }).catch((error: unknown) => error);

      expect(whileHeld).toBeInstanceOf(BudgetExceededError);
      expect(whileHeld).toMatchObject({ heldByCallsInFlight: true });
      expect((whileHeld as Error).message).toMatch(/calls in flight hold part of it/);
      expect(whenSpent).toMatchObject({ heldByCallsInFlight: false });
      expect((whenSpent as Error).message).not.toMatch(/in flight/);
    });

    it('says a budget that is spent, or is $0, admits no call, rather than ask for fewer tokens', async () => {
      const whole = await reserve({ amountNanoUsd: USER_BUDGET_NANO_USD });
      await ledger.settle(whole, { usage: usageOf(), costNanoUsd: USER_BUDGET_NANO_USD });
      const whenSpent = await reserve({ amountNanoUsd: 1 }).catch((error: unknown) => error);
      const atZero = await reserve({ userId: newUserId(), userDefaultBudgetNanoUsd: 0 }).catch(
        (error: unknown) => error,
      );
      const keyAtZero = await reserve({
        userId: newUserId(),
        apiKey: { id: `key_${randomUUID().replaceAll('-', '')}`, budgetNanoUsd: 0 },
      }).catch((error: unknown) => error);

      expect(whenSpent).toBeInstanceOf(BudgetExceededError);
      expect((whenSpent as Error).message).toMatch(/your monthly budget of \$0\.000001 is spent/);
      expect((atZero as Error).message).toMatch(/your monthly budget is \$0: no call is admitted/);
      expect((keyAtZero as Error).message).toMatch(/the API key's monthly budget is \$0/);
      for (const refusal of [whenSpent, atZero, keyAtZero]) {
        expect((refusal as Error).message).not.toMatch(/fewer|lower max_tokens/);
      }
    });

    it("says so when calls starting a user's month at once refuse one another", async () => {
      const outcomes = await Promise.allSettled([
        reserve({ amountNanoUsd: 600 }),
        reserve({ amountNanoUsd: 500 }),
      ]);

      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
        heldByCallsInFlight: true,
      });
    });

    it('says the call will not fit when any budget in the way is spent, though another waits on holds', async () => {
      const tight = { userBudgetNanoUsd: 700, globalBudgetNanoUsd: 1_000 };
      const other = await reserve({ ...tight, userId: newUserId(), amountNanoUsd: 600 });
      await ledger.settle(other, { usage: usageOf(), costNanoUsd: 600 });
      await reserve({ ...tight, amountNanoUsd: 300 });

      // The user's own budget waits on their hold; the deployment's is spent.
      const refusal = await reserve({ ...tight, amountNanoUsd: 500 }).catch((e: unknown) => e);

      expect(refusal).toBeInstanceOf(BudgetExceededError);
      expect(refusal).toMatchObject({ heldByCallsInFlight: false });
    });

    it('fills the user budget exactly', async () => {
      await reserve({ amountNanoUsd: 600 });

      await reserve({ amountNanoUsd: 400 });

      expect(await held()).toBe(USER_BUDGET_NANO_USD);
    });

    it('holds nothing for an amount that is not a whole, non-negative number of nano-USD', async () => {
      for (const amountNanoUsd of [-1_000, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(reserve({ amountNanoUsd })).rejects.toBeInstanceOf(RangeError);
      }
      expect(await held()).toBe(0);
    });

    it('refuses a reservation larger than the whole user budget', async () => {
      const tooLarge = reserve({ amountNanoUsd: USER_BUDGET_NANO_USD + 1 });

      await expect(tooLarge).rejects.toBeInstanceOf(BudgetExceededError);
      expect(await held()).toBe(0);
    });

    it('refuses a reservation that does not fit the global budget, whoever holds it', async () => {
      const globalBudgetNanoUsd = 1_500;
      await reserve({ userId: newUserId(), amountNanoUsd: 1_000, globalBudgetNanoUsd });

      const mine = reserve({ amountNanoUsd: 600, globalBudgetNanoUsd });

      await expect(mine).rejects.toBeInstanceOf(BudgetExceededError);
      expect(await held()).toBe(0);
    });

    it("says a call too large for what is left of the deployment's budget does not fit, not that the budget is reached", async () => {
      const globalBudgetNanoUsd = 1_500;
      const other = await reserve({ userId: newUserId(), amountNanoUsd: 900, globalBudgetNanoUsd });
      await ledger.settle(other, { usage: usageOf(), costNanoUsd: 900 });

      const refusal = await reserve({ amountNanoUsd: 700, globalBudgetNanoUsd }).catch(
        (e: unknown) => e,
      );

      // 60% spent: a smaller call still fits, and an operator must not read this as 100%.
      expect(refusal).toBeInstanceOf(BudgetExceededError);
      expect((refusal as Error).message).toMatch(/does not fit .*deployment's monthly budget/);
      expect((refusal as Error).message).not.toMatch(/reached/);
      await expect(reserve({ amountNanoUsd: 500, globalBudgetNanoUsd })).resolves.toBeDefined();
    });

    it('reclaims expired holds to make room when the budget is full', async () => {
      await reserve({ amountNanoUsd: USER_BUDGET_NANO_USD, expiresAtMs: T0 + 1_000 });

      const reservation = await reserve({ amountNanoUsd: 500, nowMs: T0 + 2_000 });

      expect(reservation.amountNanoUsd).toBe(500);
      expect(await held()).toBe(500);
    });

    it('keeps each calendar month (UTC) apart', async () => {
      await reserve({
        amountNanoUsd: USER_BUDGET_NANO_USD,
        nowMs: Date.parse('2026-11-30T23:59:59Z'),
      });

      const december = await reserve({
        amountNanoUsd: USER_BUDGET_NANO_USD,
        nowMs: Date.parse('2026-12-01T00:00:00Z'),
      });

      expect(december.month).toBe('2026-12');
      expect(await held(userId, NOVEMBER)).toBe(USER_BUDGET_NANO_USD);
      expect(await held(userId, '2026-12')).toBe(USER_BUDGET_NANO_USD);
    });
  });

  describe('one principal at once', () => {
    it('admits exactly what fits when many reservations race for one budget', async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 25 }, () => reserve({ amountNanoUsd: 100 })),
      );

      const admitted = attempts.filter((attempt) => attempt.status === 'fulfilled');
      expect(admitted).toHaveLength(USER_BUDGET_NANO_USD / 100);
      expect(await held()).toBe(USER_BUDGET_NANO_USD);
    });

    it('admits every first reservation of a new month that fits, however they interleave', async () => {
      // The user's month starts with the first of them; the others must not take its start
      // for a full budget.
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, () => reserve({ amountNanoUsd: 100 })),
      );

      expect(attempts.filter((attempt) => attempt.status === 'rejected')).toEqual([]);
      expect(await held()).toBe(USER_BUDGET_NANO_USD);
    });

    it('applies a lowered default budget to the month under way', async () => {
      await reserve({ amountNanoUsd: 600 });

      const lowered = reserve({ amountNanoUsd: 200, userDefaultBudgetNanoUsd: 700 });

      await expect(lowered).rejects.toBeInstanceOf(BudgetExceededError);
      expect(await held()).toBe(600);
    });

    it('applies a raised default budget to the month under way', async () => {
      await reserve({ amountNanoUsd: 900 });

      const raised = await reserve({ amountNanoUsd: 1_000, userDefaultBudgetNanoUsd: 2_000 });

      expect(raised.amountNanoUsd).toBe(1_000);
      expect(await held()).toBe(1_900);
    });

    it("keeps a user's own budget whatever the default becomes", async () => {
      await ledger.setUserBudgetOverride(userId, 0.000_000_5, T0);

      const raisedDefault = reserve({ amountNanoUsd: 600, userDefaultBudgetNanoUsd: 10_000 });

      await expect(raisedDefault).rejects.toBeInstanceOf(BudgetExceededError);
      await reserve({ amountNanoUsd: 500, userDefaultBudgetNanoUsd: 10_000 });
      expect(await held()).toBe(500);
    });

    it('admits concurrent reservations of two defaults (mid-deploy) within the larger', async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          reserve({ amountNanoUsd: 100, userDefaultBudgetNanoUsd: i % 2 ? 1_000 : 1_500 }),
        ),
      );

      const admitted = attempts.filter((attempt) => attempt.status === 'fulfilled').length;
      expect(admitted).toBeGreaterThanOrEqual(10);
      expect(await held()).toBe(admitted * 100);
      expect(await held()).toBeLessThanOrEqual(1_500);
    });

    it("applies an operator's new budget to the month under way at once", async () => {
      await reserve({ amountNanoUsd: 600 });

      await ledger.setUserBudgetOverride(userId, 0.000_000_7, T0);
      const lowered = reserve({ amountNanoUsd: 200 });
      await expect(lowered).rejects.toBeInstanceOf(BudgetExceededError);
      await ledger.setUserBudgetOverride(userId, 0.000_002, T0);
      const raised = await reserve({ amountNanoUsd: 1_300 });

      expect(raised.amountNanoUsd).toBe(1_300);
      expect(await held()).toBe(1_900);
    });

    it("applies an operator's budget set as a month ends to the next too, which may have started already", async () => {
      // The next month's first call (on an instance whose clock runs a little ahead, or as
      // the month turned while the budget was being set) started it under the default.
      const december = { nowMs: Date.parse('2026-12-01T00:00:00.000Z') };
      await ledger.release(await reserve({ amountNanoUsd: 100, ...december }));

      await ledger.setUserBudgetOverride(userId, 0, Date.parse('2026-11-30T23:59:59.999Z'));

      await expect(reserve({ amountNanoUsd: 100, ...december })).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      await expect(reserve({ amountNanoUsd: 100 })).rejects.toBeInstanceOf(BudgetExceededError);
    });

    it('makes the reservation it planned, under the planned id', async () => {
      const planned = ledger.plan({
        userId,
        amountNanoUsd: 300,
        nowMs: T0,
        expiresAtMs: T0 + 60_000,
        holder: 'CONV#u#c',
      });

      const made = await reserve({ id: planned.id, amountNanoUsd: 300, holder: 'CONV#u#c' });

      expect(made).toEqual(planned);
      expect(await ledger.listReservations()).toContainEqual(planned);
    });
  });

  describe('API key months', () => {
    const newKeyId = () => `key_${randomUUID().replaceAll('-', '')}`;

    it("holds, settles and releases on the key's month too, and names the key", async () => {
      const keyId = newKeyId();
      const reservation = await reserve({ amountNanoUsd: 400, apiKey: { id: keyId } });
      const released = await reserve({ amountNanoUsd: 100, apiKey: { id: keyId } });

      expect(reservation.keyId).toBe(keyId);
      expect((await ledger.keyMonth(keyId, NOVEMBER)).heldNanoUsd).toBe(500);
      await ledger.settle(reservation, { usage: usageOf(), costNanoUsd: 250 });
      await ledger.release(released);

      expect(await ledger.keyMonth(keyId, NOVEMBER)).toMatchObject({
        heldNanoUsd: 250,
        spentNanoUsd: 250,
        requests: 1,
        inputTokens: 120,
      });
      expect((await ledger.userMonth(userId, NOVEMBER)).spentNanoUsd).toBe(250);
    });

    it("refuses a reservation that does not fit the key's budget, holding nothing anywhere", async () => {
      const apiKey = { id: newKeyId(), budgetNanoUsd: 500 };
      await reserve({ amountNanoUsd: 400, apiKey });

      const more = reserve({ amountNanoUsd: 200, apiKey });

      await expect(more).rejects.toThrow(/API key's monthly budget/);
      expect(await held()).toBe(400);
      expect((await ledger.keyMonth(apiKey.id, NOVEMBER)).heldNanoUsd).toBe(400);
    });

    it("says when only what the key's calls in flight hold stands in the way", async () => {
      const apiKey = { id: newKeyId(), budgetNanoUsd: 500 };
      const inFlight = await reserve({ amountNanoUsd: 400, apiKey });
      const whileHeld = await reserve({ amountNanoUsd: 200, apiKey }).catch((e: unknown) => e);
      await ledger.settle(inFlight, { usage: usageOf(), costNanoUsd: 400 });
      const whenSpent = await reserve({ amountNanoUsd: 200, apiKey }).catch((e: unknown) => e);

      expect(whileHeld).toMatchObject({ heldByCallsInFlight: true });
      expect(whenSpent).toMatchObject({ heldByCallsInFlight: false });
      expect((whenSpent as Error).message).toMatch(/API key's monthly budget/);
    });

    it("admits what fits both the user's and the key's budget when many calls race for them", async () => {
      // Room for 3 calls on each user's month and 2 on each key's, 30 calls at once: sent
      // to both at once, each call could be refused by the budget the others hold.
      for (let round = 0; round < 3; round++) {
        const racer = newUserId();
        const apiKey = { id: newKeyId(), budgetNanoUsd: 600 };
        const attempts = await Promise.allSettled(
          Array.from({ length: 30 }, () => reserve({ userId: racer, amountNanoUsd: 300, apiKey })),
        );

        expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(2);
        expect(await held(racer)).toBe(600);
        expect((await ledger.keyMonth(apiKey.id, NOVEMBER)).heldNanoUsd).toBe(600);
      }
    });

    it("admits what fits both the user's and the deployment's budget when many calls race for them", async () => {
      // Room for 3 calls on each user's month and 2 on the deployment's, 30 calls at once.
      const globalBudgetNanoUsd = 600;
      for (let round = 0; round < 3; round++) {
        const racer = newUserId();
        const attempts = await Promise.allSettled(
          Array.from({ length: 30 }, () =>
            reserve({ userId: racer, amountNanoUsd: 300, globalBudgetNanoUsd }),
          ),
        );

        const admitted = attempts.flatMap((attempt) =>
          attempt.status === 'fulfilled' ? [attempt.value] : [],
        );
        expect(admitted).toHaveLength(2);
        expect(await held(racer)).toBe(600);
        for (const reservation of admitted) {
          await ledger.settle(reservation, { usage: usageOf(), costNanoUsd: 0 });
        }
      }
    });

    it("still checks the user's budget for a key with room", async () => {
      const apiKey = { id: newKeyId(), budgetNanoUsd: 1_000_000 };
      await reserve({ amountNanoUsd: 900 });

      const more = reserve({ amountNanoUsd: 200, apiKey });

      await expect(more).rejects.toThrow(/your monthly budget/);
      expect((await ledger.keyMonth(apiKey.id, NOVEMBER)).heldNanoUsd).toBe(0);
    });

    it("gives an expired key reservation's hold back to the key", async () => {
      const apiKey = { id: newKeyId(), budgetNanoUsd: 500 };
      const reservation = await reserve({ amountNanoUsd: 500, apiKey, expiresAtMs: T0 + 1_000 });

      expect(await ledger.listReservations()).toContainEqual(reservation);
      await ledger.reclaimExpired(T0 + 2_000);

      expect((await ledger.keyMonth(apiKey.id, NOVEMBER)).heldNanoUsd).toBe(0);
    });
  });

  describe('settle', () => {
    it('records the actual cost and usage, and gives back the rest of the hold', async () => {
      const reservation = await reserve({ amountNanoUsd: 400 });

      await ledger.settle(reservation, {
        usage: usageOf({ cacheCreation1hInputTokens: 3 }),
        costNanoUsd: 150,
      });

      expect(await ledger.userMonth(userId, NOVEMBER)).toEqual({
        month: NOVEMBER,
        requests: 1,
        inputTokens: 120,
        outputTokens: 30,
        cacheReadInputTokens: 10,
        cacheCreationInputTokens: 8,
        spentNanoUsd: 150,
        heldNanoUsd: 150,
      });
    });

    it("reports the caller's figures as what it counts, after a reclaim too", async () => {
      const settled = await reserve({ amountNanoUsd: 400 });
      const reclaimed = await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 1_000 });
      await ledger.reclaimExpired(T0 + 2_000);
      const actual = { usage: usageOf(), costNanoUsd: 150 };

      expect(await ledger.settle(settled, actual)).toEqual(actual);
      expect(await ledger.settle(reclaimed, actual)).toEqual(actual);
      expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(300);
    });

    it('records a cost above the reservation in full', async () => {
      const reservation = await reserve({ amountNanoUsd: 400 });

      await ledger.settle(reservation, { usage: usageOf(), costNanoUsd: 700 });

      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        spentNanoUsd: 700,
        heldNanoUsd: 700,
      });
    });

    it('still records the spend of a reservation reclaimed before it settled', async () => {
      const reservation = await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 1_000 });
      await ledger.reclaimExpired(T0 + 2_000);

      await ledger.settle(reservation, { usage: usageOf(), costNanoUsd: 300 });

      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 300,
        heldNanoUsd: 300,
      });
    });

    describe('when a recovery settled the call too', () => {
      const partial = { usage: usageOf({ outputTokens: 10 }), costNanoUsd: 100 };
      const full = { usage: usageOf({ outputTokens: 30 }), costNanoUsd: 300 };
      const countedOnce = {
        requests: 1,
        outputTokens: 30,
        inputTokens: 120,
        spentNanoUsd: 300,
        heldNanoUsd: 300,
      };

      it("counts the caller's figures once when it settles after the recovery", async () => {
        const reservation = await reserve({ amountNanoUsd: 400 });

        await ledger.settle(reservation, partial, { recovered: true });
        await ledger.settle(reservation, full);

        expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject(countedOnce);
        expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(300);
      });

      it("keeps the caller's figures when the recovery settles after it", async () => {
        const reservation = await reserve({ amountNanoUsd: 400 });

        await ledger.settle(reservation, full);
        await ledger.settle(reservation, partial, { recovered: true });

        expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject(countedOnce);
        expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(300);
      });

      it('records what the recovery saw when the reservation was reclaimed before', async () => {
        const reservation = await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 1_000 });
        await ledger.reclaimExpired(T0 + 2_000);

        await ledger.settle(reservation, partial, { recovered: true });

        expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
          requests: 1,
          outputTokens: 10,
          spentNanoUsd: 100,
          heldNanoUsd: 100,
        });
      });

      describe("reports what each settle counts in the deployment's month, summing to its spend", () => {
        const beyondPartial = {
          usage: usageOf({
            inputTokens: 0,
            outputTokens: 20,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
          }),
          costNanoUsd: 200,
        };

        it("the recovery's figures, then what the caller used beyond them", async () => {
          const reservation = await reserve({ amountNanoUsd: 400 });

          const recovered = await ledger.settle(reservation, partial, { recovered: true });
          const late = await ledger.settle(reservation, full);

          expect(recovered).toEqual(partial);
          expect(late).toEqual(beyondPartial);
          expect(recovered.costNanoUsd + late.costNanoUsd).toBe(
            await ledger.globalMonthSpendNanoUsd(NOVEMBER),
          );
        });

        it("the caller's figures, then nothing for the recovery", async () => {
          const reservation = await reserve({ amountNanoUsd: 400 });

          const settled = await ledger.settle(reservation, full);
          const recovered = await ledger.settle(reservation, partial, { recovered: true });

          expect(settled).toEqual(full);
          expect(recovered).toEqual({ usage: usageOf(ZERO_COUNTS), costNanoUsd: 0 });
          expect(settled.costNanoUsd + recovered.costNanoUsd).toBe(
            await ledger.globalMonthSpendNanoUsd(NOVEMBER),
          );
        });

        it("the recovery's figures after a reclaim, all of them", async () => {
          const reservation = await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 1_000 });
          await ledger.reclaimExpired(T0 + 2_000);

          expect(await ledger.settle(reservation, partial, { recovered: true })).toEqual(partial);
          expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(100);
        });

        it("the recovery's figures, then nothing for a caller that used less", async () => {
          const reservation = await reserve({ amountNanoUsd: 400 });

          await ledger.settle(reservation, full, { recovered: true });
          const late = await ledger.settle(reservation, partial);

          expect(late).toEqual({ usage: usageOf(ZERO_COUNTS), costNanoUsd: 0 });
          expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(300);
        });
      });

      it("counts the key's month once too", async () => {
        const reservation = await reserve({ amountNanoUsd: 400, apiKey: { id: 'key-once' } });

        await ledger.settle(reservation, partial, { recovered: true });
        await ledger.settle(reservation, full);

        expect(await ledger.keyMonth('key-once', NOVEMBER)).toMatchObject(countedOnce);
      });
    });

    it("adds settled spend, and not holds, to the deployment's month", async () => {
      const mine = await reserve({ amountNanoUsd: 400 });
      const theirs = await reserve({ userId: newUserId(), amountNanoUsd: 400 });
      await reserve({ userId: newUserId(), amountNanoUsd: 400 });

      await ledger.settle(mine, { usage: usageOf(), costNanoUsd: 100 });
      await ledger.settle(theirs, { usage: usageOf(), costNanoUsd: 200 });

      expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(300);
      expect(await ledger.globalMonthSpendNanoUsd('2026-12')).toBe(0);
    });
  });

  describe('release', () => {
    it("gives a released reservation's hold back, once", async () => {
      const released = await reserve({ amountNanoUsd: 400 });
      await reserve({ amountNanoUsd: 300 });

      await ledger.release(released);
      await ledger.release(released);

      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        requests: 0,
        spentNanoUsd: 0,
        heldNanoUsd: 300,
      });
    });

    it('changes nothing for a reservation already settled', async () => {
      const reservation = await reserve({ amountNanoUsd: 400 });
      await ledger.settle(reservation, { usage: usageOf(), costNanoUsd: 150 });

      await ledger.release(reservation);

      expect(await held()).toBe(150);
    });
  });

  describe('reclaimExpired', () => {
    it('reclaims the reservations that expired before now, each once, and counts them', async () => {
      await reserve({ amountNanoUsd: 100, expiresAtMs: T0 + 1_000 });
      await reserve({ userId: newUserId(), amountNanoUsd: 100, expiresAtMs: T0 + 1_000 });
      await reserve({ amountNanoUsd: 200, expiresAtMs: T0 + 3_000 });
      await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 5_000 });

      const early = await ledger.reclaimExpired(T0 + 3_000);
      const heldAfterEarly = await held();
      const later = await ledger.reclaimExpired(T0 + 10_000);
      const again = await ledger.reclaimExpired(T0 + 10_000);

      expect([early, later, again]).toEqual([2, 2, 0]);
      expect(heldAfterEarly).toBe(600);
      expect(await held()).toBe(0);
    });
  });

  describe('calls abandoned by their caller', () => {
    const ifAbandoned = {
      api: 'messages' as const,
      model: 'claude-sonnet-4-5',
      requestId: 'req_abandoned',
      startedAtMs: T0,
    };
    /** A call sent upstream on its reservation. */
    const abandon = async (fields: Partial<Parameters<UsageLedger['reserve']>[0]> = {}) => {
      const reservation = await reserve({ amountNanoUsd: 400, expiresAtMs: T0 + 1_000, ...fields });
      await ledger.billIfAbandoned(reservation, ifAbandoned);
      return reservation;
    };

    it('bills one all it holds once it expires, once, and tells what it billed', async () => {
      const reservation = await abandon();
      const told: unknown[] = [];
      const counted: unknown[] = [];
      const options = {
        onAbandoned: (call: unknown) => told.push(call),
        onCounted: (spend: unknown) => counted.push(spend),
      };

      const early = await ledger.reclaimExpired(T0 + 500, options);
      const due = await ledger.reclaimExpired(T0 + 2_000, options);
      const again = await ledger.reclaimExpired(T0 + 3_000, options);

      expect([early, due, again]).toEqual([0, 1, 0]);
      expect(told).toEqual([expect.objectContaining({ id: reservation.id, ifAbandoned })]);
      expect(counted).toEqual([{ usage: expect.objectContaining(ZERO_COUNTS), costNanoUsd: 400 }]);
      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 400,
        heldNanoUsd: 400,
        ...ZERO_COUNTS,
      });
      expect(await ledger.globalMonthSpendNanoUsd(NOVEMBER)).toBe(400);
    });

    it('bills the key it came with too', async () => {
      const keyId = `key_${randomUUID()}`;
      await abandon({ apiKey: { id: keyId, budgetNanoUsd: 500 } });

      await ledger.reclaimExpired(T0 + 2_000);

      expect(await ledger.keyMonth(keyId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 400,
        heldNanoUsd: 400,
      });
    });

    it('adds the tokens of a caller that only stalled, and its cost only beyond the hold', async () => {
      const cheaper = await abandon();
      const dearer = await abandon({ userId: newUserId() });
      await ledger.reclaimExpired(T0 + 2_000);

      await ledger.settle(cheaper, { usage: usageOf(), costNanoUsd: 300 });
      await ledger.settle(dearer, { usage: usageOf(), costNanoUsd: 700 });

      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 400,
        heldNanoUsd: 400,
        inputTokens: 120,
        outputTokens: 30,
      });
      expect(await ledger.userMonth(dearer.userId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 700,
        heldNanoUsd: 700,
      });
    });

    it('bills nothing for a call settled or released in time, nor one never sent', async () => {
      const settled = await abandon();
      const released = await abandon();
      await reserve({ amountNanoUsd: 50, expiresAtMs: T0 + 1_000 });
      await ledger.settle(settled, { usage: usageOf(), costNanoUsd: 100 });
      await ledger.release(released);
      // Marked after its release: it was given back already.
      await ledger.billIfAbandoned(released, ifAbandoned);
      const told: unknown[] = [];

      await ledger.reclaimExpired(T0 + 2_000, { onAbandoned: (call) => told.push(call) });

      expect(told).toEqual([]);
      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        requests: 1,
        spentNanoUsd: 100,
        heldNanoUsd: 100,
      });
    });

    it('is not given back to make room for a reservation: its hold is owed', async () => {
      await abandon({ amountNanoUsd: USER_BUDGET_NANO_USD });

      const refused = await reserve({ amountNanoUsd: 500, nowMs: T0 + 2_000 }).catch((e) => e);
      await ledger.reclaimExpired(T0 + 2_000);
      const refusedAfterSweep = await reserve({ amountNanoUsd: 500, nowMs: T0 + 2_000 }).catch(
        (e) => e,
      );

      expect(refused).toBeInstanceOf(BudgetExceededError);
      expect(refusedAfterSweep).toBeInstanceOf(BudgetExceededError);
      expect(await ledger.userMonth(userId, NOVEMBER)).toMatchObject({
        spentNanoUsd: USER_BUDGET_NANO_USD,
        heldNanoUsd: USER_BUDGET_NANO_USD,
      });
    });
  });

  describe('listReservations', () => {
    it('lists what is held, with who holds it, until it is settled, released or reclaimed', async () => {
      const holder = `CONV#${userId}#conv_1`;
      const held = await reserve({ amountNanoUsd: 100, holder });
      const settled = await reserve({ amountNanoUsd: 100 });
      const released = await reserve({ amountNanoUsd: 100 });
      const expired = await reserve({ amountNanoUsd: 100, expiresAtMs: T0 + 10 });
      await ledger.settle(settled, { usage: usageOf(), costNanoUsd: 50 });
      await ledger.release(released);
      await ledger.reclaimExpired(T0 + 20);

      const listed = (await ledger.listReservations()).filter((r) => r.userId === userId);

      expect(listed).toEqual([held]);
      expect(listed[0]?.holder).toBe(holder);
      expect(expired.holder).toBeUndefined();
    });
  });

  describe('budget overrides and month usage', () => {
    it('reports zero usage for a month the user has not used', async () => {
      expect(await ledger.userMonth(userId, NOVEMBER)).toEqual({
        month: NOVEMBER,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
        spentNanoUsd: 0,
        heldNanoUsd: 0,
      });
    });

    it('has no budget override until an operator sets one, then the latest', async () => {
      const before = await ledger.userBudgetOverrideUsd(userId);

      await ledger.setUserBudgetOverride(userId, 12.5, T0);
      const first = await ledger.userBudgetOverrideUsd(userId);
      await ledger.setUserBudgetOverride(userId, 0.000_000_003, T0);

      expect(before).toBeUndefined();
      expect(first).toBe(12.5);
      expect(await ledger.userBudgetOverrideUsd(userId)).toBe(0.000_000_003);
      expect(await ledger.userBudgetOverrideUsd(newUserId())).toBeUndefined();
    });
  });
}
