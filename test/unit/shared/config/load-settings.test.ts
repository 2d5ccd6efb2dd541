import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadSettings } from '../../../../shared/config/load-settings.js';

const BASE = {
  TABLE_NAME: 't',
  POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless',
  JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs',
  DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs-dlq',
  ANTHROPIC_API_KEY: 'k',
  JWT_SECRET: 's',
  SIGNING_KEY: 'c',
};

const PRICE = { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 };

/** The problems a ConfigurationError reports, or a failure when nothing was thrown. */
function problemsOf(env: Record<string, string | undefined>, options = {}) {
  try {
    loadSettings(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('expected loadSettings to throw');
}

describe('loadSettings', () => {
  it('applies documented defaults', () => {
    const settings = loadSettings(BASE);
    expect(settings.defaultModel).toBe('claude-sonnet-4-6');
    expect(settings.authMode).toBe('hs256');
    expect(settings.maxOutputTokens).toBe(4096);
    expect(settings.allowedModels).toEqual([]);
    expect(settings.models.has('claude-sonnet-4-6')).toBe(true);
  });

  it('treats an empty variable as unset, so the default applies', () => {
    expect(loadSettings({ ...BASE, MAX_OUTPUT_TOKENS: '' }).maxOutputTokens).toBe(4096);
  });

  it('reads lists and numbers from the environment', () => {
    const settings = loadSettings({
      ...BASE,
      ALLOWED_MODELS: 'claude-haiku-4-5, claude-opus-4-5',
      USER_MONTHLY_BUDGET_USD: '0.05',
    });
    expect(settings.allowedModels).toEqual(['claude-haiku-4-5', 'claude-opus-4-5']);
    expect([...settings.models]).toEqual([
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
      'claude-opus-4-5',
    ]);
    expect(settings.userMonthlyBudgetUsd).toBe(0.05);
  });

  it('reads a list written as a JSON array, as the docs allow, not split at its commas', () => {
    const settings = loadSettings({
      ...BASE,
      ALLOWED_BETAS: '["claude-code-20250219", "effort-2025-11-24"]',
      ALLOWED_MODELS: '["claude-haiku-4-5"]',
    });
    expect(settings.allowedBetas).toEqual(['claude-code-20250219', 'effort-2025-11-24']);
    expect(settings.allowedModels).toEqual(['claude-haiku-4-5']);
    expect(problemsOf({ ...BASE, ALLOWED_BETAS: '["claude-code-20250219"' })).toEqual([
      { key: 'allowedBetas', message: 'not a valid JSON array' },
    ]);
  });

  it('allows the fallback model as well as the default and the allowed ones', () => {
    const settings = loadSettings({ ...BASE, FALLBACK_MODEL: 'claude-haiku-4-5' });
    expect(settings.fallbackModel).toBe('claude-haiku-4-5');
    expect([...settings.models]).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5']);
  });

  it('rejects a model without a price instead of serving it at zero cost', () => {
    expect(problemsOf({ ...BASE, ALLOWED_MODELS: 'claude-unknown-9' })).toEqual([
      {
        key: 'allowedModels',
        message: expect.stringMatching(/"claude-unknown-9" has no price/),
      },
    ]);
    expect(() => loadSettings({ ...BASE, FALLBACK_MODEL: 'gpt-4' })).toThrow(
      /FALLBACK_MODEL: model "gpt-4" has no price/,
    );
  });

  it('accepts a new model once MODEL_PRICES prices it', () => {
    const settings = loadSettings({
      ...BASE,
      DEFAULT_MODEL: 'claude-next',
      MODEL_PRICES: JSON.stringify({ 'claude-next': PRICE }),
    });
    expect(settings.defaultModel).toBe('claude-next');
    expect(settings.modelPrices).toEqual({ 'claude-next': PRICE });
    expect(settings.prices.priceOf('claude-next')).toEqual(PRICE);
  });

  it('rejects MODEL_PRICES that is not JSON, or prices finer than $0.001 per million tokens', () => {
    expect(problemsOf({ ...BASE, MODEL_PRICES: '{not json' }).map((p) => p.key)).toEqual([
      'modelPrices',
    ]);
    const tooFine = JSON.stringify({ 'claude-next': { ...PRICE, input: 0.0001 } });
    expect(problemsOf({ ...BASE, MODEL_PRICES: tooFine })).toEqual([
      { key: 'modelPrices', message: expect.stringMatching(/\$0\.001/) },
    ]);
  });

  it('refuses a number that is blank or not written in digits, rather than reading it as 0 or 16', () => {
    const problems = problemsOf({
      ...BASE,
      MODEL_MAX_RETRIES: ' ',
      RESPONSE_CACHE_TTL_SECONDS: '0x10',
      MAX_RETRY_WAIT_MS: 'Infinity',
    });
    expect(problems).toEqual([
      { key: 'responseCacheTtlSeconds', message: 'not a number' },
      { key: 'modelMaxRetries', message: 'not a number' },
      { key: 'maxRetryWaitMs', message: 'not a number' },
    ]);
  });

  it('refuses a URL without http:// or https://, which every call to it would fail on', () => {
    expect(
      problemsOf({
        ...BASE,
        ANTHROPIC_BASE_URL: 'localhost:4010',
        JWKS_URL: 'ftp://issuer.example',
      }),
    ).toEqual([
      { key: 'anthropicBaseUrl', message: 'must be an http:// or https:// URL' },
      { key: 'jwksUrl', message: 'must be an http:// or https:// URL' },
    ]);
    expect(
      loadSettings({ ...BASE, ANTHROPIC_BASE_URL: 'http://localhost:4010' }).anthropicBaseUrl,
    ).toBe('http://localhost:4010');
  });

  it('refuses text with blanks around it, which every token or request would then miss', () => {
    const problems = problemsOf({
      ...BASE,
      AUTH_MODE: 'oidc',
      JWT_ISSUER: 'https://issuer.example.com/ ',
      JWT_AUDIENCE: ' ',
    });
    expect(problems).toEqual([
      { key: 'jwtIssuer', message: 'has blanks at its start or end' },
      { key: 'jwtAudience', message: 'has blanks at its start or end' },
    ]);
  });

  it('says where in MODEL_PRICES a price is wrong', () => {
    const prices = { 'claude-a': PRICE, 'claude-b': { ...PRICE, cacheRead: '0.1' } };
    expect(problemsOf({ ...BASE, MODEL_PRICES: JSON.stringify(prices) })).toEqual([
      {
        key: 'modelPrices',
        message: 'Invalid input: expected number, received string (at claude-b.cacheRead)',
      },
    ]);
  });

  it('refuses a local Anthropic key no HTTP header can carry, without quoting it', () => {
    const key = 'sk-ant-api03-not-for-logs\nmy note';
    const problems = problemsOf({ ...BASE, ANTHROPIC_API_KEY: key });
    expect(problems.map((problem) => problem.key)).toEqual(['anthropicApiKey']);
    expect(() => loadSettings({ ...BASE, ANTHROPIC_API_KEY: key })).toThrow(/ANTHROPIC_API_KEY/);
    expect(JSON.stringify(problems)).not.toContain('not-for-logs');
  });

  it('refuses an Anthropic base URL ending in /v1, which the SDK would call as /v1/v1/messages', () => {
    for (const url of ['https://proxy.example.com/v1', 'https://proxy.example.com/anthropic/v1/']) {
      expect(problemsOf({ ...BASE, ANTHROPIC_BASE_URL: url })).toEqual([
        { key: 'anthropicBaseUrl', message: expect.stringMatching(/\/v1\/v1\/messages/) },
      ]);
    }
    const proxied = 'https://gateway.example.com/v1/acct/anthropic';
    expect(loadSettings({ ...BASE, ANTHROPIC_BASE_URL: proxied }).anthropicBaseUrl).toBe(proxied);
  });

  it('reads the namespace its metrics are published under, and refuses one CloudWatch would not take', () => {
    expect(
      loadSettings({ ...BASE, POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless-staging' })
        .powertoolsMetricsNamespace,
    ).toBe('ClaudeServerless-staging');
    for (const namespace of ['AWS/Lambda', ':staging', 'a'.repeat(256), 'staging\u00e9']) {
      expect(
        problemsOf({ ...BASE, POWERTOOLS_METRICS_NAMESPACE: namespace }).map((p) => p.key),
        namespace,
      ).toEqual(['powertoolsMetricsNamespace']);
    }
  });

  it('takes a budget of a nano-dollar or more, as the admin API does, not less: held in nano-dollars, it was $0', () => {
    for (const name of ['USER_MONTHLY_BUDGET_USD', 'GLOBAL_MONTHLY_BUDGET_USD']) {
      expect(() => loadSettings({ ...BASE, [name]: '0.0000000001' })).toThrow(
        new RegExp(`${name}.*at least 0\\.000000001`),
      );
      expect(() => loadSettings({ ...BASE, [name]: '0' })).toThrow(new RegExp(name));
    }
    expect(
      loadSettings({ ...BASE, USER_MONTHLY_BUDGET_USD: '0.000000001' }).userMonthlyBudgetUsd,
    ).toBe(1e-9);
  });

  it('names the setting that is wrong', () => {
    expect(() => loadSettings({ ...BASE, USER_MONTHLY_BUDGET_USD: '-1' })).toThrow(
      /USER_MONTHLY_BUDGET_USD/,
    );
    expect(problemsOf({ ...BASE, USER_MONTHLY_BUDGET_USD: '-1' }).map((p) => p.key)).toEqual([
      'userMonthlyBudgetUsd',
    ]);
    expect(() => loadSettings({ ...BASE, AUTH_MODE: 'oidc' })).toThrow(/JWT_ISSUER/);
    expect(() => loadSettings({ ...BASE, ANTHROPIC_API_KEY: undefined })).toThrow(
      ConfigurationError,
    );
  });

  it('reports every wrong setting at once', () => {
    const problems = problemsOf({
      ...BASE,
      TABLE_NAME: undefined,
      MAX_OUTPUT_TOKENS: 'many',
      AUTH_MODE: 'basic',
    });
    expect(problems.map((p) => p.key)).toEqual(['maxOutputTokens', 'authMode', 'tableName']);
  });

  it('asks oidc for an issuer and an audience, and hs256 for a secret', () => {
    expect(problemsOf({ ...BASE, AUTH_MODE: 'oidc' }).map((p) => p.key)).toEqual([
      'jwtIssuer',
      'jwtAudience',
    ]);
    expect(problemsOf({ ...BASE, JWT_SECRET: undefined }).map((p) => p.key)).toEqual([
      'jwtSecretArn',
    ]);
    const oidc = loadSettings({
      ...BASE,
      JWT_SECRET: undefined,
      AUTH_MODE: 'oidc',
      JWT_ISSUER: 'https://issuer.example.com',
      JWT_AUDIENCE: 'app',
    });
    expect(oidc.jwtIssuer).toBe('https://issuer.example.com');
  });

  it('asks oidc for an issuer that is a URL when the JWKS URL is left to be derived from it', () => {
    const oidc = { ...BASE, JWT_SECRET: undefined, AUTH_MODE: 'oidc', JWT_AUDIENCE: 'app' };
    expect(problemsOf({ ...oidc, JWT_ISSUER: 'my-tenant.auth0.com' })).toEqual([
      { key: 'jwtIssuer', message: expect.stringMatching(/jwksUrl/) },
    ]);
    const withJwks = loadSettings({
      ...oidc,
      JWT_ISSUER: 'my-tenant',
      JWKS_URL: 'https://my-tenant.example/keys',
    });
    expect(withJwks.jwtIssuer).toBe('my-tenant');
  });

  it('does not ask the worker, which verifies no tokens, for the JWT settings', () => {
    const env = { ...BASE, JWT_SECRET: undefined, AUTH_MODE: 'oidc' };
    expect(() => loadSettings(env)).toThrow(ConfigurationError);
    expect(loadSettings(env, { role: 'worker' }).authMode).toBe('oidc');
    expect(problemsOf({ ...env, ANTHROPIC_API_KEY: undefined }, { role: 'worker' })).toEqual([
      { key: 'anthropicApiKeySecretArn', message: expect.any(String) },
    ]);
  });

  it('keeps the compaction threshold below the context window', () => {
    expect(
      problemsOf({
        ...BASE,
        CONTEXT_WINDOW_TOKENS: '50000',
        COMPACTION_THRESHOLD_TOKENS: '50000',
      }),
    ).toEqual([{ key: 'compactionThresholdTokens', message: 'must be below contextWindowTokens' }]);
  });

  it('leaves room in the per-minute token limit for a turn that asks for the most output', () => {
    expect(
      problemsOf({ ...BASE, USER_TOKENS_PER_MINUTE: '4096', MAX_OUTPUT_TOKENS: '4096' }),
    ).toEqual([{ key: 'userTokensPerMinute', message: expect.stringMatching(/maxOutputTokens/) }]);
    expect(
      loadSettings({ ...BASE, USER_TOKENS_PER_MINUTE: '3000', MAX_OUTPUT_TOKENS: '2000' })
        .userTokensPerMinute,
    ).toBe(3000);
  });

  it('ends a turn at least a second before the function timeout', () => {
    expect(problemsOf({ ...BASE, DEADLINE_MARGIN_MS: '0' }).map((p) => p.key)).toEqual([
      'deadlineMarginMs',
    ]);
    expect(loadSettings({ ...BASE, DEADLINE_MARGIN_MS: '1000' }).deadlineMarginMs).toBe(1000);
  });
});

describe('what each function must have', () => {
  const TABLE_ONLY = { TABLE_NAME: 't', POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless' };

  it('asks the maintenance function for its table and its metrics namespace, nothing else', () => {
    expect(loadSettings(TABLE_ONLY, { role: 'maintenance' }).tableName).toBe('t');
  });

  it.each(['chat', 'worker', 'maintenance'] as const)(
    'does not start the %s function without its metrics namespace, which would publish where no alarm reads',
    (role) => {
      const env = { ...BASE, POWERTOOLS_METRICS_NAMESPACE: undefined };
      expect(problemsOf(env, { role }).map((p) => p.key)).toEqual(['powertoolsMetricsNamespace']);
      expect(() => loadSettings(env, { role })).toThrow(/POWERTOOLS_METRICS_NAMESPACE/);
    },
  );

  it('asks the worker for the jobs queue, its dead-letter queue and the Anthropic key, and the chat function for its secrets too', () => {
    const keysOf = (role: 'worker' | 'chat') => {
      try {
        loadSettings(TABLE_ONLY, { role });
        return [];
      } catch (error) {
        return (error as ConfigurationError).problems.map((problem) => problem.key);
      }
    };
    expect(keysOf('worker')).toEqual([
      'jobsQueueUrl',
      'anthropicApiKeySecretArn',
      'deadLetterQueueUrl',
    ]);
    expect(keysOf('chat')).toEqual([
      'jobsQueueUrl',
      'anthropicApiKeySecretArn',
      'signingKeySecretArn',
      'jwtSecretArn',
    ]);
  });
});
