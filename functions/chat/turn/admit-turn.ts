import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BudgetExceededError, RateLimitedError } from '../../../shared/domain/errors.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { RateWindow } from '../../../shared/ports/rate-limiter.js';
import type { Reservation } from '../../../shared/ports/usage-ledger.js';
import { type BudgetRequest, reserveBudget } from '../../../shared/usage/reserve-budget.js';
import type { ChatDependencies } from '../dependencies.js';

export interface Admission {
  reservation: Reservation;
  rateWindow: RateWindow;
  /** Tokens counted against the rate limit at admission, corrected at settlement. */
  admittedTokens: number;
}

export interface AdmissionRequest extends BudgetRequest {
  /** The typical-case estimate of the prompt's tokens, for the rate limit. */
  promptTokens: number;
}

/**
 * Rate limit and budget, checked together: the worst-case cost of the call is
 * reserved up front, so the budget holds however many calls run at once.
 * @throws RateLimitedError or BudgetExceededError; nothing stays held then
 */
export async function admitTurn(
  deps: ChatDependencies,
  request: AdmissionRequest,
  metrics: Metrics,
): Promise<Admission> {
  const { settings, ledger, rateLimiter } = deps;
  const admittedTokens = request.promptTokens + request.maxOutputTokens;
  const [rate, budget] = await Promise.allSettled([
    rateLimiter.admit({ userId: request.userId, tokens: admittedTokens, nowMs: request.nowMs }),
    reserveBudget(ledger, settings, request),
  ]);
  if (rate.status === 'fulfilled' && budget.status === 'fulfilled') {
    return { reservation: budget.value, rateWindow: rate.value, admittedTokens };
  }
  if (budget.status === 'fulfilled') await ledger.release(budget.value);
  if (rate.status === 'fulfilled') await rateLimiter.adjust(rate.value, -admittedTokens);
  const error = rate.status === 'rejected' ? rate.reason : (budget as PromiseRejectedResult).reason;
  if (error instanceof RateLimitedError) {
    metrics.addMetric(METRIC.rateLimitRejections, MetricUnit.Count, 1);
  } else if (error instanceof BudgetExceededError) {
    metrics.addMetric(METRIC.budgetRejections, MetricUnit.Count, 1);
  }
  throw error;
}
