import { NotFoundError, ValidationError } from './errors.js';
import { quoted } from './quoted.js';

/**
 * A dated snapshot id names the model its alias does: `claude-haiku-4-5-20251001` is
 * `claude-haiku-4-5` (what Claude Code's own background calls ask for).
 */
export function withoutDateSuffix(model: string): string {
  return model.replace(/-\d{8}$/, '');
}

/** Whether `allowed` lists `model`, or the alias it is a dated snapshot of. */
export function listsModel(allowed: { has(model: string): boolean }, model: string): boolean {
  return allowed.has(model) || allowed.has(withoutDateSuffix(model));
}

/**
 * Whether there is such a model here: one `allowed` lists, or one the price table prices
 * (its defaults and the `modelPrices` setting). A model released since this version, or a
 * typo, is neither: it can be neither billed nor served here, and no round trip asks upstream.
 */
export function isKnownModel(
  model: string,
  allowed: { has(model: string): boolean },
  priced: { has(model: string): boolean },
): boolean {
  return listsModel(allowed, model) || priced.has(model);
}

/**
 * The model a request or job may use, by the deployment's allow-list, as every route and the
 * worker refuse one.
 * @param priced the price table (its defaults and the `modelPrices` setting)
 * @throws NotFoundError for a model there is not (neither allowed nor priced), as
 *   `/v1/messages` answers it
 * @throws ValidationError for one there is that the deployment does not allow
 */
export function allowedModel(
  model: string,
  models: ReadonlySet<string>,
  priced: { has(model: string): boolean },
): string {
  if (models.has(model)) return model;
  if (!isKnownModel(model, models, priced)) {
    throw new NotFoundError(
      `model ${quoted(model)} does not exist here; use one of: ${[...models].join(', ')}`,
    );
  }
  throw new ValidationError(
    `model ${quoted(model)} is not allowed; use one of: ${[...models].join(', ')}`,
  );
}
