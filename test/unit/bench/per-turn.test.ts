import { describe, expect, it } from 'vitest';
import { emptyUsage } from '../../../bench/dynamodb-capacity.js';
import { perTurn } from '../../../bench/rows.js';

describe('perTurn', () => {
  const timed = { ...emptyUsage(), calls: 140, conditionFailures: 2 };
  timed.byOperation = { UpdateItem: 100, PutItem: 40 };

  it('takes calls and contention from the timed turns, capacity from the metered ones', () => {
    const metered = { ...emptyUsage(), calls: 350 };
    metered.aws = { rcu: 25, wcu: 650 };
    metered.reported = { rcu: 25, wcu: 600 };

    expect(perTurn(timed, 10, { usage: metered, turns: 25 })).toEqual({
      calls: 14,
      rcu: 1,
      wcu: 26,
      reportedRcu: 1,
      reportedWcu: 24,
      byOperation: { UpdateItem: 10, PutItem: 4 },
      conditionFailures: 2,
      transactionConflicts: 0,
      throttles: 0,
    });
  });

  it('takes everything from one pass when capacity was measured with it', () => {
    const both = { ...timed, aws: { rcu: 5, wcu: 260 }, reported: { rcu: 5, wcu: 240 } };

    expect(perTurn(both, 10)).toMatchObject({ calls: 14, rcu: 0.5, wcu: 26, reportedWcu: 24 });
  });
});
