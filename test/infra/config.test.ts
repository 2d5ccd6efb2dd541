import { describe, expect, it } from 'vitest';
import { InfraConfigError, InfraConfigSchema, loadInfraConfig } from '../../infra/config.js';
import { cdkJsonContext } from './synth.js';

/** The configuration cdk.json gives, with some keys changed as `-c key=value` would. */
const load = (overrides: Record<string, unknown> = {}) => {
  const context = { ...cdkJsonContext(), ...overrides };
  return loadInfraConfig((key) => context[key]);
};

const errorOf = (overrides: Record<string, unknown>): InfraConfigError => {
  try {
    load(overrides);
  } catch (error) {
    if (error instanceof InfraConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
};

describe('the infra configuration', () => {
  it('has cdk.json defaults that equal the schema defaults', () => {
    expect(load()).toEqual(loadInfraConfig(() => undefined));
  });

  it('lists every configuration key in cdk.json', () => {
    const keys = Object.keys(InfraConfigSchema.in.shape);
    expect(keys.filter((key) => !(key in cdkJsonContext()))).toEqual([]);
  });

  it('reads -c strings as numbers, booleans, lists and JSON', () => {
    const config = load({
      chatMemoryMb: '2048',
      tableDeletionProtection: 'false',
      allowedModels: 'claude-haiku-4-5, claude-opus-4-5',
      modelPrices:
        '{"my-model":{"input":1,"output":2,"cacheWrite5m":1.25,"cacheWrite1h":2,"cacheRead":0.1}}',
      fallbackModel: 'my-model',
    });
    expect(config.chatMemoryMb).toBe(2048);
    expect(config.tableDeletionProtection).toBe(false);
    expect(config.allowedModels).toEqual(['claude-haiku-4-5', 'claude-opus-4-5']);
    expect(config.fallbackModel).toBe('my-model');
  });

  it('derives the daily cost threshold from the monthly budget over the longest month', () => {
    expect(load({ globalMonthlyBudgetUsd: 310 }).dailyCostAlarmUsd).toBeCloseTo(10, 9);
    expect(load({ dailyCostAlarmUsd: 25 }).dailyCostAlarmUsd).toBe(25);
  });

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
    [{ workerTimeoutSeconds: 300 }, 'workerTimeoutSeconds'],
    [{ workerReservedConcurrency: 2, workerMaxConcurrency: 10 }, 'workerReservedConcurrency'],
    [{ tableDeletionProtection: 'maybe' }, 'tableDeletionProtection'],
  ])('rejects %j naming %s', (overrides, key) => {
    const error = errorOf(overrides);
    expect(error.message).toMatch(new RegExp(`(^|; |: )${key}[.:]`));
  });

  it('requires an issuer and audience for OIDC, and no JWT secret', () => {
    const error = errorOf({
      authMode: 'oidc',
      jwtSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt',
    });
    expect(error.message).toContain('jwtIssuer: ');
    expect(error.message).toContain('jwtAudience: ');
    expect(error.message).toContain('jwtSecretArn: ');
    expect(
      load({ authMode: 'oidc', jwtIssuer: 'https://issuer.example', jwtAudience: 'api' }).authMode,
    ).toBe('oidc');
  });

  it('shows the offending value', () => {
    expect(errorOf({ chatMemoryMb: 64 }).message).toContain('(got 64)');
  });
});
