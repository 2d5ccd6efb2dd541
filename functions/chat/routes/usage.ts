import { monthOf } from '../../../shared/domain/budget.js';
import type { Clock } from '../../../shared/domain/clock.js';
import { nanoToUsd, usdToNano } from '../../../shared/domain/pricing/model-price.js';
import type { UsageLedger } from '../../../shared/ports/usage-ledger.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';

/** GET /v1/usage: the caller's usage and budget for the current month (UTC). */
export const usageRoute = (deps: {
  ledger: UsageLedger;
  clock: Clock;
  limits: { userMonthlyBudgetUsd: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/usage',
    handle: async ({ principal: { userId } }) => {
      const month = monthOf(deps.clock());
      const [usage, override] = await Promise.all([
        deps.ledger.userMonth(userId, month),
        deps.ledger.userBudgetOverrideUsd(userId),
      ]);
      const budgetUsd = override ?? deps.limits.userMonthlyBudgetUsd;
      return json(200, {
        month,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cacheReadInputTokens: usage.cacheReadInputTokens,
        cacheCreationInputTokens: usage.cacheCreationInputTokens,
        costUsd: nanoToUsd(usage.spentNanoUsd),
        budgetUsd,
        // What can still be reserved: in-flight calls hold part of the budget too.
        remainingUsd: nanoToUsd(Math.max(0, usdToNano(budgetUsd) - usage.heldNanoUsd)),
        requests: usage.requests,
      });
    },
  });
