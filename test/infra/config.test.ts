import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfraConfigError, loadInfraConfig } from '../../infra/config.js';
import { PROJECT_ROOT } from '../../infra/paths.js';
import { SETTINGS, settingKeys } from '../../shared/config/settings.js';
import { cdkJsonContext, synthesize } from './synth.js';

/** The configuration cdk.json gives, with some keys changed as `-c key=value` would. */
const load = (overrides: Record<string, unknown> = {}) =>
  loadInfraConfig({ ...cdkJsonContext(), ...overrides });

const errorOf = (overrides: Record<string, unknown>): InfraConfigError => {
  try {
    load(overrides);
  } catch (error) {
    if (error instanceof InfraConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
};

const PRICES = {
  'my-model': { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 },
};

describe('the infra configuration', () => {
  it('finds no product setting in cdk.json, only CDK flags', () => {
    const keys = Object.keys(cdkJsonContext());
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => key in SETTINGS)).toEqual([]);
    expect(keys.filter((key) => /^[a-z][A-Za-z0-9]*$/.test(key))).toEqual([]);
  });

  it('takes every default from the settings table', () => {
    const config: Record<string, unknown> = load();
    for (const key of settingKeys('stack')) {
      if (key === 'dailyCostAlarmUsd' || key === 'jobsQueueAgeAlarmSeconds') continue;
      expect(config[key], key).toEqual(SETTINGS[key].defaultValue);
    }
    expect(config.dailyCostAlarmUsd).toBeCloseTo(1000 / 31, 9);
    expect(config.jobsQueueAgeAlarmSeconds).toBe(2700);
    expect(config).toEqual(loadInfraConfig({}));
  });

  it('reads -c strings as numbers, booleans, lists and JSON', () => {
    const config = load({
      chatMemoryMb: '2048',
      tableDeletionProtection: 'false',
      allowedModels: 'claude-haiku-4-5, claude-opus-4-5',
      modelPrices: JSON.stringify(PRICES),
      fallbackModel: 'my-model',
    });
    expect(config.chatMemoryMb).toBe(2048);
    expect(config.tableDeletionProtection).toBe(false);
    expect(config.allowedModels).toEqual(['claude-haiku-4-5', 'claude-opus-4-5']);
    expect(config.modelPrices).toEqual(PRICES);
    expect(config.fallbackModel).toBe('my-model');
  });

  it('reads cdk.json values as JSON numbers, booleans, arrays and objects', () => {
    const config = load({
      chatMemoryMb: 2048,
      tableDeletionProtection: false,
      allowedModels: ['claude-haiku-4-5'],
      modelPrices: PRICES,
      defaultModel: 'my-model',
    });
    expect(config.chatMemoryMb).toBe(2048);
    expect(config.tableDeletionProtection).toBe(false);
    expect(config.allowedModels).toEqual(['claude-haiku-4-5']);
    expect(config.modelPrices).toEqual(PRICES);
    expect(config.defaultModel).toBe('my-model');
  });

  it('derives the daily cost threshold from the monthly budget over the longest month', () => {
    expect(load({ globalMonthlyBudgetUsd: 310 }).dailyCostAlarmUsd).toBeCloseTo(10, 9);
    expect(load({ dailyCostAlarmUsd: 25 }).dailyCostAlarmUsd).toBe(25);
  });

  it('puts the queue-age alarm above the longest a job that only waits is counted, unless set', () => {
    // batchPollSeconds + 2 x (workerTimeoutSeconds + 900) + 3: 2103 s by default.
    expect(load({ batchPollSeconds: 900 }).jobsQueueAgeAlarmSeconds).toBe(3300);
    expect(load({ jobsQueueAgeAlarmSeconds: 2104 }).jobsQueueAgeAlarmSeconds).toBe(2104);
    expect(
      load({ jobsQueueAgeAlarmSeconds: 7200, batchPollSeconds: 900 }).jobsQueueAgeAlarmSeconds,
    ).toBe(7200);
  });

  it.each([
    // The old default: a job asked to wait 15 minutes twice would page at 30.
    [{ jobsQueueAgeAlarmSeconds: 1800 }, 2103],
    [{ jobsQueueAgeAlarmSeconds: 2103 }, 2103],
    [{ jobsQueueAgeAlarmSeconds: 2700, batchPollSeconds: 900 }, 2943],
    [{ jobsQueueAgeAlarmSeconds: 2100, workerTimeoutSeconds: 100, batchPollSeconds: 120 }, 2123],
  ])(
    'refuses a queue-age alarm %j that a job waiting out its retries would set off',
    (overrides, longest) => {
      const error = errorOf(overrides);
      expect(error.message).toContain(`jobsQueueAgeAlarmSeconds: must be more than ${longest} s`);
      expect(error.message).toContain(`(got ${overrides.jobsQueueAgeAlarmSeconds})`);
    },
  );

  it.each([
    [{ chatMemoryMb: 64 }, 'chatMemoryMb'],
    [{ chatMemoryMb: 'lots' }, 'chatMemoryMb'],
    [{ logRetentionDays: 10 }, 'logRetentionDays'],
    [{ authMode: 'basic' }, 'authMode'],
    [{ functionUrlAuthType: 'PUBLIC' }, 'functionUrlAuthType'],
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail'],
    [{ anthropicApiKeySecretArn: 'my-key' }, 'anthropicApiKeySecretArn'],
    [{ modelPrices: '{not json' }, 'modelPrices'],
    [{ modelPrices: { 'claude-x': { input: 1 } } }, 'modelPrices'],
    [{ defaultModel: 'gpt-4' }, 'defaultModel'],
    [{ allowedModels: ['claude-sonnet-4-5', 'no-such-model'] }, 'allowedModels'],
    [{ compactionThresholdTokens: 200_000 }, 'compactionThresholdTokens'],
    [{ chatTimeoutSeconds: 60 }, 'chatTimeoutSeconds'],
    [{ workerTimeoutSeconds: 901 }, 'workerTimeoutSeconds'],
    [{ workerReservedConcurrency: 2, workerMaxConcurrency: 10 }, 'workerReservedConcurrency'],
    [{ tableDeletionProtection: 'maybe' }, 'tableDeletionProtection'],
    [{ deadlineMarginMs: 0 }, 'deadlineMarginMs'],
    [{ corsAllowedOrigins: 'app.example.com' }, 'corsAllowedOrigins'],
    [{ corsAllowedOrigins: ['https://app.example.com/'] }, 'corsAllowedOrigins'],
    [{ tracing: 'yes' }, 'tracing'],
    // Number() would read these as 1, 0, 0 and 16.
    [{ chatReservedConcurrency: true }, 'chatReservedConcurrency'],
    [{ responseCacheTtlSeconds: [] }, 'responseCacheTtlSeconds'],
    [{ modelMaxRetries: ' ' }, 'modelMaxRetries'],
    [{ userMonthlyBudgetUsd: '0x10' }, 'userMonthlyBudgetUsd'],
    [{ logRetentionDays: [30] }, 'logRetentionDays'],
    [{ workerTimeoutSeconds: '30s' }, 'workerTimeoutSeconds'],
    [{ anthropicBaseUrl: 'proxy.internal:8443' }, 'anthropicBaseUrl'],
    [{ authMode: 'oidc', jwtIssuer: 'https://issuer.example ', jwtAudience: 'api' }, 'jwtIssuer'],
    [{ authMode: 'oidc', jwtIssuer: 'issuer.example', jwtAudience: 'api' }, 'jwtIssuer'],
    [{ userTokensPerMinute: 3000 }, 'userTokensPerMinute'],
    // The jobs queue deletes a message after 4 days: an alarm at 5 could never fire.
    [{ jobsQueueAgeAlarmSeconds: 5 * 86_400 }, 'jobsQueueAgeAlarmSeconds'],
  ])('rejects %j naming %s', (overrides, key) => {
    const error = errorOf(overrides);
    expect(error.message).toMatch(new RegExp(`(^|; |: )${key}[.:]`));
  });

  it('reads a -c list written as a JSON array', () => {
    const config = load({
      corsAllowedOrigins: '["https://app.example.com", "http://localhost:5173"]',
      allowedBetas: '["effort-2025-11-24"]',
    });
    expect(config.corsAllowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.allowedBetas).toEqual(['effort-2025-11-24']);
  });

  it('accepts origins with a scheme, a port, or *', () => {
    expect(
      load({ corsAllowedOrigins: 'https://app.example.com, http://localhost:5173' })
        .corsAllowedOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(load({ corsAllowedOrigins: '*' }).corsAllowedOrigins).toEqual(['*']);
  });

  it('requires an issuer and audience for OIDC, and no JWT secret', () => {
    const error = errorOf({
      authMode: 'oidc',
      jwtSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf',
    });
    expect(error.message).toContain('jwtIssuer: ');
    expect(error.message).toContain('jwtAudience: ');
    expect(error.message).toContain('jwtSecretArn: ');
    expect(
      load({ authMode: 'oidc', jwtIssuer: 'https://issuer.example', jwtAudience: 'api' }).authMode,
    ).toBe('oidc');
  });

  it("takes a secret's complete ARN only: a partial one cannot be told apart from a complete one", () => {
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic';
    expect(errorOf({ anthropicApiKeySecretArn: partial }).message).toMatch(
      /anthropicApiKeySecretArn: .*must match pattern/,
    );
    const complete = `${partial}-AbCdEf`;
    expect(load({ anthropicApiKeySecretArn: complete }).anthropicApiKeySecretArn).toBe(complete);
  });

  it('reads a number written as digits, an exponent or with blanks around it', () => {
    const config = load({
      modelMaxRetries: ' 1 ',
      maxOutputTokens: '1e3',
      userMonthlyBudgetUsd: '2.5',
    });
    expect(config.modelMaxRetries).toBe(1);
    expect(config.maxOutputTokens).toBe(1000);
    expect(config.userMonthlyBudgetUsd).toBe(2.5);
  });

  it('says where in a JSON setting the value is wrong', () => {
    const modelPrices = { 'my-model': { ...PRICES['my-model'], longPrompt: { overTokens: 0 } } };
    expect(errorOf({ modelPrices }).message).toMatch(
      /modelPrices: Too small: expected number to be >0 \(at my-model\.longPrompt\.overTokens\)/,
    );
  });

  it('shows the offending value', () => {
    expect(errorOf({ chatMemoryMb: 64 }).message).toContain('(got 64)');
  });

  it('never shows a value that is, or may by mistake be, a secret: synth output ends up in CI logs', () => {
    const secret = 'sk-ant-api03-not-for-ci-logs';
    for (const key of [
      'anthropicApiKey',
      'jwtSecret',
      'signingKey',
      'anthropicApiKeySecretArn',
      'jwtSecretArn',
      'signingKeySecretArn',
      'anthropicapikey',
      'anthropicKey',
    ]) {
      const message = errorOf({ [key]: secret }).message;
      expect(message, key).toContain(`${key}: `);
      expect(message, key).not.toContain(secret);
    }
    expect(errorOf({ anthropicApiKey: secret }).message).toMatch(
      /anthropicApiKey: .*anthropicApiKeySecretArn/,
    );
  });

  it('suggests the setting a misspelt key was meant to be', () => {
    expect(errorOf({ chatTimeOutSeconds: 60 }).message).toContain(
      'chatTimeOutSeconds: unknown setting; did you mean chatTimeoutSeconds? (got 60)',
    );
  });

  it('suggests the setting a key with a typo was meant to be', () => {
    expect(errorOf({ alarmEmial: 'oncall@example.com' }).message).toContain(
      'alarmEmial: unknown setting; did you mean alarmEmail?',
    );
    expect(errorOf({ userMonthlyBudgetUsdd: 5 }).message).toContain(
      'userMonthlyBudgetUsdd: unknown setting; did you mean userMonthlyBudgetUsd?',
    );
    // Never one the stack sets itself: it could not be set either.
    expect(errorOf({ tableNam: 'mine' }).message).toContain(
      'tableNam: unknown setting (see docs/configuration.md)',
    );
  });

  it('rejects a key that is no setting, and one the stack sets itself', () => {
    expect(errorOf({ maxTokens: 10 }).message).toContain(
      'maxTokens: unknown setting (see docs/configuration.md)',
    );
    expect(errorOf({ tableName: 'mine' }).message).toContain(
      'tableName: the functions read it from the stack, it is not configurable',
    );
  });

  it("leaves CDK's own context keys alone", () => {
    expect(() =>
      load({
        'aws:cdk:bundling-stacks': [],
        '@aws-cdk/core:newStyleStackSynthesis': true,
        'cli-telemetry': false,
      }),
    ).not.toThrow();
  });

  it('reports every problem at once', () => {
    const { message } = errorOf({ chatMemoryMb: 64, logLevel: 'LOUD', chatTimeOutSeconds: 60 });
    for (const key of ['chatMemoryMb', 'logLevel', 'chatTimeOutSeconds']) {
      expect(message).toContain(`${key}: `);
    }
  });
});

describe('synth', () => {
  const synthError = (context: Record<string, unknown>) => {
    try {
      synthesize({ context });
    } catch (error) {
      expect(error).toBeInstanceOf(InfraConfigError);
      return (error as InfraConfigError).message;
    }
    throw new Error(`synthesized with ${JSON.stringify(context)}`);
  };

  it('fails naming deadlineMarginMs when a turn would get no margin (-c deadlineMarginMs=0)', () => {
    expect(synthError({ deadlineMarginMs: '0' })).toMatch(/deadlineMarginMs: .*1000.* \(got "0"\)/);
  });

  it('fails on a misspelt key, suggesting the setting (-c chatTimeOutSeconds=60)', () => {
    expect(synthError({ chatTimeOutSeconds: '60' })).toContain(
      'chatTimeOutSeconds: unknown setting; did you mean chatTimeoutSeconds?',
    );
  });

  it('fails on an origin without a scheme (-c corsAllowedOrigins=app.example.com)', () => {
    expect(synthError({ corsAllowedOrigins: 'app.example.com' })).toContain(
      'corsAllowedOrigins: an origin is a scheme and a host',
    );
  });

  it('fails on what only the functions would reject at cold start', () => {
    // The functions' loadSettings, run on the environment the stack gives them.
    expect(synthError({ compactionThresholdTokens: '100000' })).toContain(
      'compactionThresholdTokens: must be below contextWindowTokens',
    );
    expect(synthError({ defaultModel: 'claude-unpriced-1' })).toContain(
      'defaultModel: model "claude-unpriced-1" has no price',
    );
  });

  it('exits the CDK app with the message, before building anything', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'infra', 'app.ts')],
      {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH,
          // How the CDK CLI hands `-c chatTimeOutSeconds=60` to the app.
          CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), chatTimeOutSeconds: '60' }),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('did you mean chatTimeoutSeconds?');
  });
});
