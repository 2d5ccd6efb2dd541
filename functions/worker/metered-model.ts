import type { Clock } from '../../shared/domain/clock.js';
import type { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { maxTokensOf } from '../../shared/domain/tokens.js';
import { addUsage, type TokenUsage, ZERO_USAGE } from '../../shared/domain/usage.js';
import type { Model, ModelAnswer, ModelRequest } from '../../shared/ports/model.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { BudgetReserver } from '../../shared/usage/budget-reserver.js';
import type { JobObserver } from './job-observer.js';

/** Usage and exact cost of every call a job made. */
export class JobMeter {
  usage: TokenUsage = ZERO_USAGE;
  costNanoUsd = 0;

  add(usage: TokenUsage, costNanoUsd: number): void {
    this.usage = addUsage(this.usage, usage);
    this.costNanoUsd += costNanoUsd;
  }
}

/** How long a job's reservation may stay unsettled before it is reclaimed. */
const RESERVATION_LEASE_MS = 15 * 60_000;

/**
 * One model call of a job, budgeted exactly like a chat turn: the worst case is
 * reserved first, the actual cost settled after.
 * @throws BudgetExceededError before the call when it does not fit
 */
export type MeteredComplete = (
  userId: string,
  request: ModelRequest,
  meter: JobMeter,
) => Promise<ModelAnswer>;

export function createMeteredModel(deps: {
  model: Model;
  budget: BudgetReserver;
  ledger: Pick<UsageLedger, 'settle' | 'release'>;
  prices: PriceTable;
  clock: Clock;
  observer: JobObserver;
}): MeteredComplete {
  const { model, budget, ledger, prices, clock, observer } = deps;
  return async (userId, request, meter) => {
    const now = clock();
    const texts = [
      ...request.system.map((block) => block.text),
      ...request.messages.flatMap((message) => message.blocks.map((block) => block.text)),
    ];
    const reservation = await budget.reserve({
      userId,
      model: request.model,
      promptMaxTokens: maxTokensOf(texts),
      maxOutputTokens: request.maxTokens,
      nowMs: now,
      expiresAtMs: now + RESERVATION_LEASE_MS,
    });
    let answer: ModelAnswer;
    try {
      answer = await model.complete(request);
    } catch (error) {
      await ledger.release(reservation);
      throw error;
    }
    // Priced as the model asked for: a proxy upstream may name it differently.
    const costNanoUsd = prices.costNanoUsd(request.model, answer.usage);
    await ledger.settle(reservation, { usage: answer.usage, costNanoUsd });
    meter.add(answer.usage, costNanoUsd);
    observer.modelCall(answer.usage, costNanoUsd);
    if (costNanoUsd > reservation.amountNanoUsd) {
      observer.budgetOverrun({ overrunNanoUsd: costNanoUsd - reservation.amountNanoUsd, userId });
    }
    return answer;
  };
}
