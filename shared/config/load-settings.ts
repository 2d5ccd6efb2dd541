import { PriceTable } from '../domain/pricing/price-table.js';
import { describeIssues } from './setting-types.js';
import {
  envNameOf,
  type FunctionSettingKey,
  type FunctionSettingValues,
  SETTINGS,
  settingKeys,
} from './settings.js';

/** One thing wrong with the configuration, named by setting (camelCase key). */
export interface SettingsProblem {
  key: FunctionSettingKey;
  message: string;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(readonly problems: readonly SettingsProblem[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${envNameOf(p.key)}: ${p.message}`).join('; ')}`,
    );
  }
}

export interface Settings extends FunctionSettingValues {
  prices: PriceTable;
  /** Every model a request may name: the default, the allowed and the fallback models. */
  models: ReadonlySet<string>;
}

/** Which function reads the settings: each needs its own resources and secrets. */
export type FunctionRole = 'chat' | 'worker' | 'maintenance';

/**
 * Reads and validates every setting once, at cold start, from the environment
 * (`MAX_OUTPUT_TOKENS` for `maxOutputTokens`), requiring what `role` uses: the chat
 * function verifies tokens and seals cursors, the worker calls Claude from the queue,
 * the maintenance function only reads and writes the table. The stack runs this same
 * function on the environment it gives each function, so synth fails on anything that
 * would fail here.
 * @throws ConfigurationError naming every setting that is wrong
 */
export function loadSettings(
  env: Record<string, string | undefined>,
  options: { role?: FunctionRole } = {},
): Settings {
  const values: Record<string, unknown> = {};
  const problems: SettingsProblem[] = [];
  for (const key of settingKeys('functions') as FunctionSettingKey[]) {
    const setting = SETTINGS[key];
    const raw = env[envNameOf(key)];
    if ((raw === undefined || raw === '') && setting.allowsUnset) {
      // What the schema would answer, without building it: most settings are left unset.
      values[key] = setting.defaultValue;
      continue;
    }
    const result = setting.schema.safeParse(raw);
    if (result.success) values[key] = result.data;
    else problems.push({ key, message: describeIssues(result.error.issues) });
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const settings = values as FunctionSettingValues;
  const prices = new PriceTable(settings.modelPrices, {
    workspaceInferenceGeo: settings.workspaceInferenceGeo,
  });
  const crossProblems = [
    ...roleProblems(settings, options.role ?? 'chat'),
    ...modelProblems(settings, prices),
    ...baseUrlProblems(settings),
    ...(settings.compactionThresholdTokens >= settings.contextWindowTokens
      ? [
          {
            key: 'compactionThresholdTokens' as const,
            message: 'must be below contextWindowTokens',
          },
        ]
      : []),
    // A chat turn that names no maxTokens (the playground's, useChat's) asks for
    // maxOutputTokens, counted in the window with its prompt: none could ever be admitted.
    ...(settings.userTokensPerMinute <= settings.maxOutputTokens
      ? [
          {
            key: 'userTokensPerMinute' as const,
            message:
              'must be above maxOutputTokens: a chat turn holds its prompt and maxOutputTokens in the minute',
          },
        ]
      : []),
  ];
  if (crossProblems.length > 0) throw new ConfigurationError(crossProblems);
  const models = new Set([
    settings.defaultModel,
    ...settings.allowedModels,
    ...(settings.fallbackModel ? [settings.fallbackModel] : []),
  ]);
  return { ...settings, prices, models };
}

function roleProblems(settings: FunctionSettingValues, role: FunctionRole) {
  const problems: SettingsProblem[] = [];
  if (role === 'maintenance') return problems;
  if (!settings.jobsQueueUrl) problems.push({ key: 'jobsQueueUrl', message: 'set it' });
  if (!settings.anthropicApiKeySecretArn && !settings.anthropicApiKey) {
    problems.push({
      key: 'anthropicApiKeySecretArn',
      message: 'set it (or ANTHROPIC_API_KEY on the local stack)',
    });
  }
  if (role === 'worker') {
    // Without it, a message that can never succeed would be received again for ever.
    if (!settings.deadLetterQueueUrl)
      problems.push({ key: 'deadLetterQueueUrl', message: 'set it' });
    return problems;
  }
  if (!settings.signingKeySecretArn && !settings.signingKey) {
    problems.push({
      key: 'signingKeySecretArn',
      message: 'set it (or SIGNING_KEY on the local stack)',
    });
  }
  if (settings.authMode === 'hs256' && !settings.jwtSecretArn && !settings.jwtSecret) {
    problems.push({
      key: 'jwtSecretArn',
      message: 'authMode hs256 needs it (or JWT_SECRET on the local stack)',
    });
  }
  if (settings.authMode === 'oidc') {
    if (!settings.jwtIssuer) problems.push({ key: 'jwtIssuer', message: 'authMode oidc needs it' });
    else if (!settings.jwksUrl && !isHttpUrl(settings.jwtIssuer)) {
      problems.push({
        key: 'jwtIssuer',
        message:
          'authMode oidc reads the keys from <jwtIssuer>/.well-known/jwks.json unless jwksUrl is set: make it the http(s) URL the tokens name as iss, or set jwksUrl',
      });
    }
    if (!settings.jwtAudience) {
      problems.push({ key: 'jwtAudience', message: 'authMode oidc needs it' });
    }
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

/**
 * The Anthropic SDK adds /v1/messages to its base URL itself: one ending in /v1 (as the
 * AI SDK's baseURL does) would send every call to /v1/v1/messages, a 404.
 */
function baseUrlProblems(settings: FunctionSettingValues): SettingsProblem[] {
  const url = settings.anthropicBaseUrl;
  if (!url || !/\/v1\/?$/.test(new URL(url).pathname)) return [];
  return [
    {
      key: 'anthropicBaseUrl',
      message:
        'ends in /v1, which the Anthropic SDK adds itself (it would call /v1/v1/messages): leave it out',
    },
  ];
}

/** A model without a price would be served at a cost of zero. */
function modelProblems(settings: FunctionSettingValues, prices: PriceTable) {
  const named = {
    defaultModel: [settings.defaultModel],
    allowedModels: settings.allowedModels,
    fallbackModel: settings.fallbackModel ? [settings.fallbackModel] : [],
  };
  return Object.entries(named).flatMap(([key, models]) =>
    models
      .filter((model) => !prices.has(model))
      .map((model) => ({
        key: key as FunctionSettingKey,
        message: `model ${JSON.stringify(model)} has no price: add it to modelPrices (USD per million tokens)`,
      })),
  );
}
