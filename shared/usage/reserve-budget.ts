import type { LoadedSettings } from '../config/load-settings.js';
import { usdToNano } from '../domain/pricing/model-price.js';
import type { Reservation, UsageLedger } from '../ports/usage-ledger.js';

export interface BudgetRequest {
  userId: string;
  model: string;
  /** A guaranteed upper bound of the prompt's tokens. */
  promptMaxTokens: number;
  maxOutputTokens: number;
  nowMs: number;
  /** When the reservation may be reclaimed if its caller never settles it. */
  expiresAtMs: number;
}

/**
 * Reserves the worst-case cost of one model call against the user's monthly budget
 * (their own, when an operator set one) and the deployment's.
 * @throws BudgetExceededError
 */
export async function reserveBudget(
  ledger: UsageLedger,
  settings: Pick<
    LoadedSettings,
    'prices' | 'USER_MONTHLY_BUDGET_USD' | 'GLOBAL_MONTHLY_BUDGET_USD'
  >,
  request: BudgetRequest,
): Promise<Reservation> {
  const userBudgetUsd =
    (await ledger.userBudgetOverrideUsd(request.userId)) ?? settings.USER_MONTHLY_BUDGET_USD;
  return ledger.reserve({
    userId: request.userId,
    amountNanoUsd: settings.prices.worstCaseNanoUsd(
      request.model,
      request.promptMaxTokens,
      request.maxOutputTokens,
    ),
    userBudgetNanoUsd: usdToNano(userBudgetUsd),
    globalBudgetNanoUsd: usdToNano(settings.GLOBAL_MONTHLY_BUDGET_USD),
    nowMs: request.nowMs,
    expiresAtMs: request.expiresAtMs,
  });
}
