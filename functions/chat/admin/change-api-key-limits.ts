import type { ApiKey, ApiKeyLimitChanges } from '../../../shared/domain/api-key.js';
import { ValidationError } from '../../../shared/domain/errors.js';
import type { ApiKeyStore } from '../../../shared/ports/api-key-store.js';
import { checkAllowedModels } from './allowed-models.js';

/**
 * The key with its limits changed, or undefined when there is no such key.
 * @throws ValidationError when nothing is to change or a model is not the deployment's
 * @throws ConflictError when the key is revoked
 */
export type ChangeApiKeyLimits = (
  id: string,
  changes: ApiKeyLimitChanges,
) => Promise<ApiKey | undefined>;

/** PATCH /v1/admin/keys/{id}: a key's own budget, rates and models, set or removed. */
export function createApiKeyLimitsChanger(deps: {
  store: ApiKeyStore;
  /** Every model the deployment allows: a key may only narrow them. */
  models: ReadonlySet<string>;
}): ChangeApiKeyLimits {
  const { store, models } = deps;
  return async (id, changes) => {
    if (Object.values(changes).every((value) => value === undefined)) {
      throw new ValidationError(
        'nothing to change: name monthlyBudgetUsd, requestsPerMinute, tokensPerMinute or allowedModels (null removes one)',
      );
    }
    const { allowedModels } = changes;
    checkAllowedModels(allowedModels, models);
    return store.changeLimits(id, {
      ...changes,
      // Each model once: a list repeating one would outgrow what a DynamoDB item may hold.
      ...(allowedModels && { allowedModels: [...new Set(allowedModels)] }),
    });
  };
}
