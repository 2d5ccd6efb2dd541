import { ValidationError } from '../../../shared/domain/errors.js';

/** How many unknown models a refusal names: the message stays short whatever was sent. */
const NAMED_AT_MOST = 5;

/** @throws ValidationError when `allowedModels` names a model the deployment does not allow */
export function checkAllowedModels(
  allowedModels: readonly string[] | null | undefined,
  models: ReadonlySet<string>,
): void {
  const unknown = [...new Set(allowedModels?.filter((model) => !models.has(model)))];
  if (unknown.length === 0) return;
  const named = unknown.slice(0, NAMED_AT_MOST).join(', ');
  const more = unknown.length > NAMED_AT_MOST ? ` and ${unknown.length - NAMED_AT_MOST} more` : '';
  throw new ValidationError(
    `allowedModels: ${named}${more} not available here; available: ${[...models].join(', ')}`,
  );
}
