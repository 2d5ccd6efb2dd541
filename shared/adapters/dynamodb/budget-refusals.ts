import { BudgetExceededError } from '../../domain/errors.js';
import { nanoToUsd } from '../../domain/pricing/model-price.js';
import type { Reservation } from '../../ports/usage-ledger.js';

/** A hold on a user month or a deployment shard refused: the item as the update found it, to tell why. */
export class HoldRefused extends BudgetExceededError {
  constructor(readonly item: Record<string, unknown> | undefined) {
    super(userBudgetMessage(''));
  }
}

/** A deployment shard's refusal, as the refused update found the shard. */
export function globalRefusal(item: Record<string, unknown>, reservation: Reservation) {
  const cap = Number(item.availableNanoUsd ?? 0) + Number(item.heldNanoUsd ?? 0);
  return globalBudgetExceeded({
    heldByCallsInFlight: cap - Number(item.spentNanoUsd ?? 0) >= reservation.amountNanoUsd,
  });
}

/** A user month's refusal, as the refused update found the month. */
export function userRefusal(item: Record<string, unknown>, reservation: Reservation) {
  const budget = Number(item.availableNanoUsd ?? 0) + Number(item.heldNanoUsd ?? 0);
  return userBudgetExceeded(budget, {
    heldByCallsInFlight: budget - Number(item.spentNanoUsd ?? 0) >= reservation.amountNanoUsd,
  });
}

function userBudgetExceeded(budgetNanoUsd: number, options?: { heldByCallsInFlight: boolean }) {
  return new BudgetExceededError(
    userBudgetMessage(` of $${nanoToUsd(budgetNanoUsd)}`) + inFlightNote(options),
    options,
  );
}

/** Said when only what calls in flight hold stands in the way. */
function inFlightNote(options?: { heldByCallsInFlight: boolean }): string {
  return options?.heldByCallsInFlight
    ? ' (calls in flight hold part of it until they end: it may fit then)'
    : '';
}

function userBudgetMessage(budget: string) {
  return `this request does not fit your monthly budget${budget}; ask for fewer output tokens (or tool uses) or wait for the next month`;
}

export function keyBudgetExceeded(
  budgetNanoUsd: number,
  options?: { heldByCallsInFlight: boolean },
) {
  return new BudgetExceededError(
    `this request does not fit the API key's monthly budget of $${nanoToUsd(budgetNanoUsd)}; lower max_tokens (or a tool's max_uses) or wait for the next month${inFlightNote(options)}`,
    options,
  );
}

/**
 * A month item refused a hold for its size: every call in flight on it names its hold there,
 * and DynamoDB's 400 KB item fills at about 15,000 (a producer's batch jobs hold for a day).
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

function globalBudgetExceeded(options?: { heldByCallsInFlight: boolean }) {
  return new BudgetExceededError(
    // Said at 60% too (a large call, a full shard): "reached" would have operators look for 100%.
    `this request does not fit what is left of the deployment's monthly budget; ask for fewer output tokens (or tool uses) or wait for the next month${inFlightNote(options)}`,
    options,
  );
}
