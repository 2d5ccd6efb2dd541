import { monthOf } from '../../../shared/domain/budget.js';
import { nanoToUsd, usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { jsonResponse } from '../../../shared/http/json-response.js';
import type { Route } from '../router.js';

/** GET /v1/usage: the caller's usage and budget for the current month (UTC). */
export const usageRoute: Route = {
  method: 'GET',
  path: '/v1/usage',
  handle: async ({ deps }, { userId }) => {
    const month = monthOf((deps.clock ?? Date.now)());
    const [usage, override] = await Promise.all([
      deps.ledger.userMonth(userId, month),
      deps.ledger.userBudgetOverrideUsd(userId),
    ]);
    const budgetUsd = override ?? deps.settings.USER_MONTHLY_BUDGET_USD;
    return jsonResponse(200, {
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
};
