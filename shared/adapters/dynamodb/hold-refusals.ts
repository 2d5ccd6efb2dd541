import { deploymentBudgetExceeded, userBudgetExceeded } from '../../domain/budget-refusals.js';
import { BudgetExceededError } from '../../domain/errors.js';
import { nanoToUsd } from '../../domain/pricing/model-price.js';
import type { Reservation } from '../../ports/usage-ledger.js';

/** A hold on a user month or a deployment shard refused: the item as the update found it, to tell why. */
export class HoldRefused extends BudgetExceededError {
  constructor(readonly item: Record<string, unknown> | undefined) {
    super('this request does not fit the monthly budget');
  }
}

/** A deployment shard's refusal, as the refused update found the shard. */
export function globalRefusal(item: Record<string, unknown>, reservation: Reservation) {
  const cap = Number(item.availableNanoUsd ?? 0) + Number(item.heldNanoUsd ?? 0);
  return deploymentBudgetExceeded({
    heldByCallsInFlight: cap - Number(item.spentNanoUsd ?? 0) >= reservation.amountNanoUsd,
  });
}

/** A user month's refusal, as the refused update found the month. */
export function userRefusal(item: Record<string, unknown>, reservation: Reservation) {
  // No month yet (versions mid-deploy each starting it to their own default): no figures.
  if (item.availableNanoUsd === undefined) return userBudgetExceeded({});
  const budget = Number(item.availableNanoUsd) + Number(item.heldNanoUsd ?? 0);
  const spentNanoUsd = Number(item.spentNanoUsd ?? 0);
  return userBudgetExceeded({
    budgetNanoUsd: budget,
    spentNanoUsd,
    heldByCallsInFlight: budget - spentNanoUsd >= reservation.amountNanoUsd,
  });
}

/**
 * A month item refused a hold for its size: every call in flight on it names its hold there,
 * and DynamoDB's 400 KB item fills at 15,000 to 17,000 (docs/data-model.md; a producer's batch
 * jobs hold for a day).
 * Each call that ends takes its hold off.
 */
export function tooManyHolds(kind: 'user' | 'global' | 'key', cause: unknown) {
  const budget = {
    user: 'your monthly budget',
    global: "the deployment's monthly budget",
    key: "the API key's monthly budget",
  }[kind];
  return new BudgetExceededError(
    `too many calls in flight hold ${budget} for one more to be admitted: try again when some end`,
    { cause, heldByCallsInFlight: true },
  );
}

/** One call that could not fit even an empty month of the deployment's shard. */
export function callOverShardBudget(planned: Reservation, shardBudgetNanoUsd: number) {
  return new BudgetExceededError(
    `this request's worst-case cost of $${nanoToUsd(planned.amountNanoUsd)} is more than the deployment lets one call hold ($${nanoToUsd(shardBudgetNanoUsd)}); ask for fewer output tokens or tool uses`,
  );
}
