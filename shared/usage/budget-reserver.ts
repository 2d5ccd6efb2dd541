import type { ApiKeyGrant } from '../domain/api-key.js';
import { MAX_BUDGET_USD } from '../domain/budget.js';
import { BudgetExceededError } from '../domain/errors.js';
import { nanoToUsd, usdToNano } from '../domain/pricing/model-price.js';
import type { PriceTable } from '../domain/pricing/price-table.js';
import type { Reservation, UsageLedger } from '../ports/usage-ledger.js';

export interface BudgetLimits {
  /** Each user's monthly budget, unless an operator set one of their own. */
  userMonthlyBudgetUsd: number;
  globalMonthlyBudgetUsd: number;
}

export interface BudgetRequest {
  userId: string;
  model: string;
  /** Another model that may answer instead (on overload): the worst case is the dearer one's. */
  fallbackModel?: string;
  /** A guaranteed upper bound of the prompt's tokens. */
  promptMaxTokens: number;
  maxOutputTokens: number;
  /** Cost beyond tokens the call may run up (server tool uses), held on top. */
  extraNanoUsd?: number;
  /** The request's `inference_geo` (else the workspace's): one geography costs more than `global`. */
  inferenceGeo?: string;
  nowMs: number;
  /** When the reservation may be reclaimed if its caller never settles it. */
  expiresAtMs: number;
  /** Who holds it, for a sweeper to find (see UsageLedger.listReservations). */
  holder?: string;
  /** The API key the call comes with: its own budget and rates apply too. */
  apiKey?: ApiKeyGrant;
}

export interface BudgetReserver {
  /** The reservation `reserve` will make for this request, before it is made. */
  plan(request: BudgetRequest): Reservation;
  /**
   * Reserves the worst-case cost of one model call against the user's monthly budget
   * (their own, when an operator set one), the API key's and the deployment's.
   * @param planned what `plan` returned for the request, to make exactly that reservation
   * @throws BudgetExceededError
   */
  reserve(request: BudgetRequest, planned?: Reservation): Promise<Reservation>;
}

export function createBudgetReserver(deps: {
  ledger: UsageLedger;
  prices: PriceTable;
  limits: BudgetLimits;
}): BudgetReserver {
  const { ledger, prices, limits } = deps;
  const ledgerRequest = (request: BudgetRequest, id?: string) => ({
    ...(id && { id }),
    userId: request.userId,
    amountNanoUsd: worstCaseOf(request),
    nowMs: request.nowMs,
    expiresAtMs: request.expiresAtMs,
    ...(request.holder && { holder: request.holder }),
    ...(request.apiKey && {
      apiKey: {
        id: request.apiKey.id,
        ...(request.apiKey.monthlyBudgetUsd !== undefined && {
          budgetNanoUsd: usdToNano(request.apiKey.monthlyBudgetUsd),
        }),
      },
    }),
  });
  const worstCaseAt = (model: string, request: BudgetRequest) =>
    prices.worstCaseNanoUsd(
      model,
      request.promptMaxTokens,
      request.maxOutputTokens,
      request.inferenceGeo,
    );
  function worstCaseOf(request: BudgetRequest): number {
    const nanoUsd =
      Math.max(
        worstCaseAt(request.model, request),
        request.fallbackModel ? worstCaseAt(request.fallbackModel, request) : 0,
      ) + (request.extraNanoUsd ?? 0);
    if (nanoUsd > usdToNano(MAX_BUDGET_USD)) {
      throw new BudgetExceededError(
        `this request could cost up to $${nanoToUsd(nanoUsd)}, more than any budget holds; lower max_tokens (or a tool's max_uses)`,
      );
    }
    return nanoUsd;
  }
  return {
    plan: (request) => ledger.plan(ledgerRequest(request)),
    reserve: (request, planned) =>
      ledger
        .reserve({
          ...ledgerRequest(request, planned?.id),
          userDefaultBudgetNanoUsd: usdToNano(limits.userMonthlyBudgetUsd),
          globalBudgetNanoUsd: usdToNano(limits.globalMonthlyBudgetUsd),
        })
        .catch((error: unknown) => {
          throw error instanceof BudgetExceededError && heldForFallback(request)
            ? new BudgetExceededError(
                `${error.message} (this holds the worst case of ${request.fallbackModel}, which answers if ${request.model} is overloaded)`,
                { cause: error, heldByCallsInFlight: error.heldByCallsInFlight },
              )
            : error;
        }),
  };

  /** Whether the fallback model's worst case is what the request holds. */
  function heldForFallback(request: BudgetRequest): boolean {
    return (
      request.fallbackModel !== undefined &&
      worstCaseAt(request.fallbackModel, request) > worstCaseAt(request.model, request)
    );
  }
}
