import { describe, expect, it } from 'vitest';
import {
  globalShardCaps,
  MAX_GLOBAL_BUDGET_SHARDS,
  monthOf,
  nextMonthOf,
  type ShardReading,
} from '../../../../shared/domain/budget.js';

/** Every shard's reading: those given first, the others empty. */
const readings = (...given: Array<Partial<ShardReading>>): ShardReading[] =>
  Array.from({ length: MAX_GLOBAL_BUDGET_SHARDS }, (_, i) => ({
    heldNanoUsd: 0,
    spentNanoUsd: 0,
    ...given[i],
  }));
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

describe('globalShardCaps', () => {
  it('splits an untouched month evenly, the remainder one nano-USD each on the first shards', () => {
    const caps = globalShardCaps(1_003, 4, readings());

    expect(caps.slice(0, 4)).toEqual([251, 251, 251, 250]);
    expect(caps.slice(4)).toEqual(Array(MAX_GLOBAL_BUDGET_SHARDS - 4).fill(0));
  });

  it('keeps a single shard exact', () => {
    expect(globalShardCaps(19, 1, readings({ heldNanoUsd: 7 }))[0]).toBe(19);
  });

  it('gives a shard holding more than its share no room, and the others what is left', () => {
    // $19 held on one shard when the budget becomes $20 over two.
    const caps = globalShardCaps(20, 2, readings({ heldNanoUsd: 19, spentNanoUsd: 19 }));

    expect(caps.slice(0, 2)).toEqual([19, 1]);
  });

  it('raises the shards holding least to one level, within the budget', () => {
    const held = [9, 1, 4, 0];
    const caps = globalShardCaps(20, 4, readings(...held.map((heldNanoUsd) => ({ heldNanoUsd }))));

    expect(caps.slice(0, 4)).toEqual([9, 4, 4, 3]);
    expect(sum(caps)).toBe(20);
  });

  it('counts what shards a larger budget used hold, and gives them no room', () => {
    const given = readings({ heldNanoUsd: 10 }, {}, { heldNanoUsd: 30 }, { heldNanoUsd: 6 });

    const caps = globalShardCaps(100, 2, given);

    expect(caps.slice(0, 4)).toEqual([32, 32, 30, 6]);
    expect(sum(caps)).toBe(100);
  });

  it('never caps a shard below what it holds when the month fits the budget', () => {
    const given = readings(
      ...[7, 0, 13, 2, 2, 40, 1].map((heldNanoUsd) => ({ heldNanoUsd, spentNanoUsd: 0 })),
    );

    const caps = globalShardCaps(100, 7, given);

    caps.forEach((cap, i) => {
      expect(cap).toBeGreaterThanOrEqual(given[i]!.heldNanoUsd);
    });
    expect(sum(caps)).toBe(100);
  });

  it('levels on spend when what calls in flight hold passes a lowered budget', () => {
    // $10 spent and $30 in flight on the first shard, $5 spent on the second; the budget is now $30.
    const given = readings(
      { heldNanoUsd: 40, spentNanoUsd: 10 },
      { heldNanoUsd: 5, spentNanoUsd: 5 },
    );

    const caps = globalShardCaps(30, 2, given);

    expect(caps.slice(0, 2)).toEqual([15, 15]);
  });

  it('leaves no room anywhere once the spend passes a lowered budget', () => {
    const given = readings(
      { heldNanoUsd: 40, spentNanoUsd: 25 },
      { heldNanoUsd: 9, spentNanoUsd: 9 },
    );

    expect(globalShardCaps(30, 2, given).slice(0, 2)).toEqual([25, 9]);
  });
});

describe('monthOf and nextMonthOf', () => {
  it('name calendar months in UTC, whatever their length, across years and leap days', () => {
    const cases: Array<[string, string, string]> = [
      ['2026-11-30T23:59:59.999Z', '2026-11', '2026-12'],
      ['2026-12-31T23:59:59.999Z', '2026-12', '2027-01'],
      ['2028-02-29T12:00:00.000Z', '2028-02', '2028-03'],
      ['2027-01-31T23:59:59.999Z', '2027-01', '2027-02'],
      ['2026-12-01T00:30:00.000+01:00', '2026-11', '2026-12'],
    ];
    for (const [instant, month, next] of cases) {
      expect([monthOf(Date.parse(instant)), nextMonthOf(Date.parse(instant))], instant).toEqual([
        month,
        next,
      ]);
    }
  });
});
