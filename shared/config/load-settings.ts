import { PriceTable } from '../domain/pricing/price-table.js';
import {
  authSettingsProblems,
  missingSettings,
  type Settings,
  SettingsSchema,
} from './settings.js';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export interface LoadedSettings extends Settings {
  prices: PriceTable;
  /** DEFAULT_MODEL, ALLOWED_MODELS and FALLBACK_MODEL together. */
  allowedModels: ReadonlySet<string>;
}

/**
 * Reads and validates every setting once, at cold start. `verifiesTokens: false` (the
 * worker) skips the auth settings, which only the chat function uses. A model without a price is
 * a configuration error: it would otherwise be served at a cost of zero.
 */
export function loadSettings(
  env: Record<string, string | undefined>,
  options: { verifiesTokens?: boolean } = {},
): LoadedSettings {
  const parsed = SettingsSchema.safeParse(env);
  const problems = parsed.success
    ? [
        ...missingSettings(parsed.data),
        ...(options.verifiesTokens === false ? [] : authSettingsProblems(parsed.data)),
      ].map((problem) => `${problem.setting}: ${problem.message}`)
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`);
  if (!parsed.success || problems.length > 0) {
    throw new ConfigurationError(`invalid configuration: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  let prices: PriceTable;
  try {
    prices = new PriceTable(settings.MODEL_PRICES);
  } catch (error) {
    throw new ConfigurationError(`MODEL_PRICES is not valid: ${String(error)}`, { cause: error });
  }
  const allowedModels = new Set([
    settings.DEFAULT_MODEL,
    ...settings.ALLOWED_MODELS,
    ...(settings.FALLBACK_MODEL ? [settings.FALLBACK_MODEL] : []),
  ]);
  const unpriced = [...allowedModels].filter((model) => !prices.has(model));
  if (unpriced.length > 0) {
    throw new ConfigurationError(
      `no price for model(s) ${unpriced.join(', ')}: add them to MODEL_PRICES (USD per million tokens)`,
    );
  }
  return { ...settings, prices, allowedModels };
}
