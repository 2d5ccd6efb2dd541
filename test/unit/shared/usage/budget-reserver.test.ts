import { describe, expect, it } from 'vitest';
import { monthOf } from '../../../../shared/domain/budget.js';
import { BudgetExceededError } from '../../../../shared/domain/errors.js';
import { PriceTable } from '../../../../shared/domain/pricing/price-table.js';
import {
  type BudgetLimits,
  type BudgetRequest,
  createBudgetReserver,
} from '../../../../shared/usage/budget-reserver.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';

const NOW_MS = Date.parse('2026-11-15T10:00:00.000Z');

const REQUEST: BudgetRequest = {
  userId: 'alice',
  model: 'claude-sonnet-4-6',
  promptMaxTokens: 1_000,
  maxOutputTokens: 600,
  nowMs: NOW_MS,
  expiresAtMs: NOW_MS + 60_000,
};
/** 1000 prompt tokens at Sonnet's dearest input ($6, a 1-hour cache write) + 600 x $15: $0.015. */
const WORST_CASE_NANO_USD = 15_000_000;

function reserverFixture(limits: BudgetLimits, prices = new PriceTable()) {
  const ledger = new InMemoryUsageLedger();
  const budget = createBudgetReserver({ ledger, prices, limits });
  return { ledger, budget };
}

describe('budget reserver', () => {
  it("reserves the call's worst case: every prompt token at the dearest input price, every allowed output token", async () => {
    const { budget, ledger } = reserverFixture({
      userMonthlyBudgetUsd: 10,
      globalMonthlyBudgetUsd: 1_000,
    });

    const reservation = await budget.reserve(REQUEST);

    expect(reservation).toMatchObject({
      userId: 'alice',
      month: monthOf(NOW_MS),
      amountNanoUsd: WORST_CASE_NANO_USD,
      expiresAtMs: REQUEST.expiresAtMs,
    });
    expect((await ledger.userMonth('alice', monthOf(NOW_MS))).heldNanoUsd).toBe(
      WORST_CASE_NANO_USD,
    );
  });

  it('holds 1.1 times the worst case where the call runs in one geography: the workspace default, unless the request names one', async () => {
    const limits = { userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 1_000 };
    const regional = reserverFixture(
      limits,
      new PriceTable({}, { workspaceInferenceGeo: 'us' }),
    ).budget;
    const global = reserverFixture(
      limits,
      new PriceTable({}, { workspaceInferenceGeo: 'global' }),
    ).budget;

    expect((await regional.reserve(REQUEST)).amountNanoUsd).toBe(16_500_000);
    expect((await regional.reserve({ ...REQUEST, inferenceGeo: 'global' })).amountNanoUsd).toBe(
      WORST_CASE_NANO_USD,
    );
    expect((await global.reserve(REQUEST)).amountNanoUsd).toBe(WORST_CASE_NANO_USD);
    expect((await global.reserve({ ...REQUEST, inferenceGeo: 'us' })).amountNanoUsd).toBe(
      16_500_000,
    );
  });

  it("refuses a call whose worst case does not fit the user's monthly budget", async () => {
    const { budget } = reserverFixture({
      userMonthlyBudgetUsd: 0.01,
      globalMonthlyBudgetUsd: 1_000,
    });

    await expect(budget.reserve(REQUEST)).rejects.toThrow(BudgetExceededError);
  });

  it("uses the user's own budget when an operator set one, above the default", async () => {
    const { budget, ledger } = reserverFixture({
      userMonthlyBudgetUsd: 0.01,
      globalMonthlyBudgetUsd: 1_000,
    });
    await ledger.setUserBudgetOverride('alice', 100, NOW_MS);

    const reservation = await budget.reserve(REQUEST);

    expect(reservation.amountNanoUsd).toBe(WORST_CASE_NANO_USD);
    await expect(budget.reserve({ ...REQUEST, userId: 'bob' })).rejects.toThrow(
      BudgetExceededError,
    );
  });

  it("uses the user's own budget when an operator set one, below the default", async () => {
    const { budget, ledger } = reserverFixture({
      userMonthlyBudgetUsd: 10,
      globalMonthlyBudgetUsd: 1_000,
    });
    await ledger.setUserBudgetOverride('alice', 0.01, NOW_MS);

    await expect(budget.reserve(REQUEST)).rejects.toThrow(BudgetExceededError);
    await expect(budget.reserve({ ...REQUEST, userId: 'bob' })).resolves.toBeDefined();
  });

  it("refuses a call that does not fit the deployment's monthly budget", async () => {
    const { budget } = reserverFixture({ userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 0.02 });
    await budget.reserve(REQUEST);

    await expect(budget.reserve({ ...REQUEST, userId: 'bob' })).rejects.toThrow(
      BudgetExceededError,
    );
  });
});
