import { describe, expect, it } from 'vitest';
import {
  keyBudgetExceeded,
  userBudgetExceeded,
} from '../../../../shared/domain/budget-refusals.js';

describe('what a budget refusal says', () => {
  it('asks for a smaller call while one could fit, and says when calls in flight hold the rest', () => {
    const refusal = userBudgetExceeded({
      budgetNanoUsd: 5_000_000_000,
      spentNanoUsd: 1_000_000_000,
      heldByCallsInFlight: true,
    });

    expect(refusal.message).toBe(
      'this request does not fit your monthly budget of $5; ask for fewer output tokens (or tool uses) or wait for the next month (calls in flight hold part of it until they end: it may fit then)',
    );
    expect(refusal.heldByCallsInFlight).toBe(true);
  });

  it('says a spent month is spent, and a budget of $0 admits nothing, with no smaller call to ask for', () => {
    const spent = keyBudgetExceeded({ budgetNanoUsd: 2_000_000_000, spentNanoUsd: 2_000_000_001 });
    const zero = userBudgetExceeded({ budgetNanoUsd: 0, spentNanoUsd: 0 });

    expect(spent.message).toBe(
      "the API key's monthly budget of $2 is spent; wait for the next month or have it raised",
    );
    expect(zero.message).toBe('your monthly budget is $0: no call is admitted until it is raised');
  });

  it('names no figure for a month it could not read, rather than calling the budget $0', () => {
    const refusal = userBudgetExceeded({});

    expect(refusal.message).toBe(
      'this request does not fit your monthly budget; ask for fewer output tokens (or tool uses) or wait for the next month',
    );
  });
});
