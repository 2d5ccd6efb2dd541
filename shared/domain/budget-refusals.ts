import { BudgetExceededError } from './errors.js';
import { nanoToUsd } from './pricing/model-price.js';

/** What stood in the way of a hold, as the month was found. */
export interface MonthRefusal {
  /** Unknown when the month could not be read. */
  budgetNanoUsd?: number;
  /** Unknown when the call alone is more than the budget. */
  spentNanoUsd?: number;
  /** What the budget has not spent would cover the call: calls in flight hold the rest. */
  heldByCallsInFlight?: boolean;
}

/** The user's (or team's) month refused a hold. */
export function userBudgetExceeded(refusal: MonthRefusal): BudgetExceededError {
  return monthRefusal('your monthly budget', refusal, 'ask for fewer output tokens (or tool uses)');
}

/** The API key's own month refused a hold. */
export function keyBudgetExceeded(refusal: MonthRefusal): BudgetExceededError {
  return monthRefusal(
    "the API key's monthly budget",
    refusal,
    "lower max_tokens (or a tool's max_uses)",
  );
}

/** The deployment's budget (one of its shards) refused a hold. */
export function deploymentBudgetExceeded(options: {
  heldByCallsInFlight: boolean;
}): BudgetExceededError {
  return new BudgetExceededError(
    // Said at 60% too (a large call, a full shard): "reached" would have operators look for 100%.
    `this request does not fit what is left of the deployment's monthly budget; ask for fewer output tokens (or tool uses) or wait for the next month${inFlightNote(options)}`,
    options,
  );
}

// A budget of $0, or one spent, admits no call however small: "ask for fewer tokens" misleads.
function monthRefusal(budget: string, refusal: MonthRefusal, smaller: string) {
  const { budgetNanoUsd, spentNanoUsd, heldByCallsInFlight = false } = refusal;
  const of = budgetNanoUsd === undefined ? '' : ` of $${nanoToUsd(budgetNanoUsd)}`;
  const message =
    budgetNanoUsd !== undefined && budgetNanoUsd <= 0
      ? `${budget} is $0: no call is admitted until it is raised`
      : budgetNanoUsd !== undefined && spentNanoUsd !== undefined && spentNanoUsd >= budgetNanoUsd
        ? `${budget}${of} is spent; wait for the next month or have it raised`
        : `this request does not fit ${budget}${of}; ${smaller} or wait for the next month${inFlightNote({ heldByCallsInFlight })}`;
  return new BudgetExceededError(message, { heldByCallsInFlight });
}

/** Said when only what calls in flight hold stands in the way. */
function inFlightNote(options: { heldByCallsInFlight: boolean }): string {
  return options.heldByCallsInFlight
    ? ' (calls in flight hold part of it until they end: it may fit then)'
    : '';
}
