import { describe, expect, it } from 'vitest';
import { createBudgetWatch } from '../../../../shared/budget/budget-watch.js';
import { createKeyBudgetWatch } from '../../../../shared/budget/key-budget-watch.js';
import {
  createMonthBudgetsSweep,
  monthsToWatch,
} from '../../../../shared/budget/month-budgets-sweep.js';
import { usdToNano } from '../../../../shared/domain/pricing/model-price.js';
import type { BudgetThresholdEvent } from '../../../../shared/events/producer-events.js';
import { InMemoryApiKeyStore } from '../../../fakes/in-memory-api-key-store.js';
import { InMemoryBudgetNotices } from '../../../fakes/in-memory-budget-notices.js';
import { InMemoryUsageLedger } from '../../../fakes/in-memory-usage-ledger.js';
import { InMemoryUsageRecords } from '../../../fakes/in-memory-usage-records.js';
import { RecordingEventPublisher } from '../../../fakes/recording-event-publisher.js';

const USER = 'alice';
const MODEL = 'claude-sonnet-4-6';
const USAGE = {
  inputTokens: 1_000,
  outputTokens: 100,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};
const limits = { userMonthlyBudgetUsd: 10, globalMonthlyBudgetUsd: 1_000 };

/**
 * The maintenance sweep's budget checks, on fakes, at the instant the test sets; `failing`
 * names a month whose deployment check and usage report fail.
 */
function sweepAt({ failing }: { failing?: string } = {}) {
  let nowMs = 0;
  const clock = () => nowMs;
  const ledger = new InMemoryUsageLedger();
  const usageRecords = new InMemoryUsageRecords();
  const notices = new InMemoryBudgetNotices();
  const events = new RecordingEventPublisher();
  const budgetWatch = createBudgetWatch({ ledger, notices, events, clock, limits });
  const keyBudgetWatch = createKeyBudgetWatch({
    apiKeys: new InMemoryApiKeyStore(),
    ledger,
    notices,
    events,
    clock,
  });
  const unavailable = (month: string | undefined) => {
    if (month === failing) throw new Error(`the table refused to read ${month}`);
  };
  const sweep = createMonthBudgetsSweep({
    budgetWatch: {
      ...budgetWatch,
      deployment: async (month) => {
        unavailable(month);
        return budgetWatch.deployment(month);
      },
    },
    keyBudgetWatch,
    usageRecords: {
      report: async (month, options) => {
        unavailable(month);
        return usageRecords.report(month, options);
      },
    },
    clock,
    top: 1_000,
  });
  /** A call reserved at `reservedAt` and settled at `settledAt`, costing `usd`. */
  const spend = async (usd: number, reservedAt: string, settledAt: string) => {
    nowMs = Date.parse(reservedAt);
    const reservation = await ledger.reserve({
      userId: USER,
      amountNanoUsd: usdToNano(usd),
      userDefaultBudgetNanoUsd: usdToNano(limits.userMonthlyBudgetUsd),
      globalBudgetNanoUsd: usdToNano(limits.globalMonthlyBudgetUsd),
      nowMs,
      expiresAtMs: nowMs + 25 * 3600_000,
    });
    nowMs = Date.parse(settledAt);
    await ledger.settle(reservation, { usage: USAGE, costNanoUsd: usdToNano(usd) });
    await usageRecords.record({
      requestId: reservation.id,
      at: reservedAt,
      principal: USER,
      api: 'jobs',
      model: MODEL,
      usage: USAGE,
      costNanoUsd: usdToNano(usd),
      latencyMs: nowMs - Date.parse(reservedAt),
      cacheHit: false,
    });
  };
  const runAt = async (at: string, options: { hasTime?: () => boolean } = {}) => {
    nowMs = Date.parse(at);
    return sweep(options);
  };
  const thresholds = () =>
    (events.published as BudgetThresholdEvent[]).map(({ scope, month, percent }) => ({
      scope,
      month,
      percent,
    }));
  return { spend, runAt, thresholds };
}

describe('the budget checks of the maintenance sweep across a month boundary', () => {
  it("publishes a month's thresholds crossed by a call it reserved and that settled after it ended", async () => {
    const { spend, runAt, thresholds } = sweepAt();
    await runAt('2026-11-30T12:00:00.000Z');
    // A job's batch reserved in November, collected in December: November pays.
    await spend(8.5, '2026-11-30T20:00:00.000Z', '2026-12-01T09:00:00.000Z');
    await runAt('2026-12-01T09:01:00.000Z');
    expect(thresholds()).toEqual([
      { scope: 'principal', month: '2026-11', percent: 50 },
      { scope: 'principal', month: '2026-11', percent: 80 },
    ]);
  });

  it('publishes what the last minute of a month crossed, on the first run of the next', async () => {
    const { spend, runAt, thresholds } = sweepAt();
    await runAt('2026-12-31T23:59:00.000Z');
    await spend(6, '2026-12-31T23:59:10.000Z', '2026-12-31T23:59:40.000Z');
    await runAt('2027-01-01T00:00:00.500Z');
    expect(thresholds()).toEqual([{ scope: 'principal', month: '2026-12', percent: 50 }]);
  });

  it('leaves the spenders it has no time for to the next run, and says how many', async () => {
    const { spend, runAt, thresholds } = sweepAt();
    await spend(6, '2026-11-10T10:00:00.000Z', '2026-11-10T10:01:00.000Z');

    expect(await runAt('2026-11-10T10:02:00.000Z', { hasTime: () => false })).toBe(1);
    expect(thresholds()).toEqual([]);
    expect(await runAt('2026-11-10T10:03:00.000Z')).toBe(0);
    expect(thresholds()).toEqual([{ scope: 'principal', month: '2026-11', percent: 50 }]);
  });

  it('checks the principals of a month whose deployment check or report failed in the other month, and fails the run at the end', async () => {
    const { spend, runAt, thresholds } = sweepAt({ failing: '2026-11' });
    await spend(8.5, '2026-12-01T08:00:00.000Z', '2026-12-01T08:01:00.000Z');

    await expect(runAt('2026-12-01T09:00:00.000Z')).rejects.toThrow(
      'the table refused to read 2026-11',
    );
    expect(thresholds()).toEqual([
      { scope: 'principal', month: '2026-12', percent: 50 },
      { scope: 'principal', month: '2026-12', percent: 80 },
    ]);
  });

  it('checks the month before only for the two days its calls may still settle', () => {
    expect(monthsToWatch(Date.parse('2027-01-01T00:00:00.000Z'))).toEqual(['2026-12', '2027-01']);
    expect(monthsToWatch(Date.parse('2026-03-02T23:59:59.999Z'))).toEqual(['2026-02', '2026-03']);
    expect(monthsToWatch(Date.parse('2026-03-03T00:00:00.000Z'))).toEqual(['2026-03']);
    expect(monthsToWatch(Date.parse('2026-11-30T23:59:59.999Z'))).toEqual(['2026-11']);
  });
});
