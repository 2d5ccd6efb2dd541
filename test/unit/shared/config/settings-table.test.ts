import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_KEEP_ALIVE_MS } from '../../../../local-stack/local-claude/stream.js';
import { configurationDoc } from '../../../../scripts/generate-configuration-doc.js';
import {
  envNameOf,
  SETTINGS,
  type SettingDefinition,
  type SettingKey,
  settingKeys,
} from '../../../../shared/config/settings.js';

const entries = Object.entries(SETTINGS) as Array<[SettingKey, SettingDefinition]>;
const withDefault = entries.filter(([, setting]) => setting.defaultValue !== undefined);
const toEnv = (setting: SettingDefinition, value: unknown) =>
  (setting.toEnv as (value: unknown) => string)(value);

describe('the settings table', () => {
  it.each(entries)('documents %s in one line, with the values it accepts', (_, setting) => {
    expect(setting.doc.trim().length).toBeGreaterThan(0);
    expect(setting.doc).not.toMatch(/\n/);
    expect(setting.accepts.trim().length).toBeGreaterThan(0);
  });

  it.each(withDefault)('accepts the default of %s as a JSON value (cdk.json)', (_, setting) => {
    expect(setting.schema.parse(setting.defaultValue)).toEqual(setting.defaultValue);
  });

  it.each(withDefault)('accepts the default of %s as an environment string', (_, setting) => {
    expect(setting.schema.parse(toEnv(setting, setting.defaultValue))).toEqual(
      setting.defaultValue,
    );
  });

  it.each(withDefault)('falls back to the default of %s when it is not set', (_, setting) => {
    expect(setting.schema.parse(undefined)).toEqual(setting.defaultValue);
    expect(setting.schema.parse('')).toEqual(setting.defaultValue);
  });

  it.each(entries)('says whether %s may be left unset, as its schema does', (_, setting) => {
    // loadSettings takes an unset setting's default without building its schema.
    const unset = setting.schema.safeParse(undefined);
    expect(setting.allowsUnset).toBe(unset.success);
    if (unset.success) expect(unset.data).toEqual(setting.defaultValue);
  });

  it('leaves a setting without a default unset, unless the functions cannot run without it', () => {
    const required = entries
      .filter(([, setting]) => setting.defaultValue === undefined)
      .filter(([, setting]) => !setting.schema.safeParse(undefined).success)
      .map(([key]) => key);
    // The jobs queue is required per role, by loadSettings: the maintenance function has none.
    // Without its namespace a function would publish its metrics where no alarm reads them.
    expect(required).toEqual(['tableName', 'powertoolsMetricsNamespace']);
  });

  it('has plain camelCase keys, each with its own environment variable', () => {
    for (const [key] of entries) expect(key).toMatch(/^[a-z][A-Za-z0-9]*$/);
    const names = entries.map(([key]) => envNameOf(key));
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('splits the settings between the functions and the stack by their readers', () => {
    const functions = settingKeys('functions');
    const stack = settingKeys('stack');
    expect(functions).toContain('tableName');
    expect(functions).not.toContain('chatMemoryMb');
    expect(stack).toContain('chatMemoryMb');
    expect(stack).not.toContain('tableName');
    const both = entries.filter(([, setting]) => setting.readers === 'both').map(([key]) => key);
    expect(both.filter((key) => functions.includes(key) && stack.includes(key))).toEqual(both);
    expect(new Set([...functions, ...stack]).size).toBe(entries.length);
  });
});

describe('the default stream idle timeouts', () => {
  it('let /v1/messages wait out a missed keep-alive ping or two while Claude thinks unseen', () => {
    expect(SETTINGS.messagesStreamIdleTimeoutMs.defaultValue).toBeGreaterThanOrEqual(
      3 * API_KEEP_ALIVE_MS,
    );
  });
});

describe('envNameOf', () => {
  it.each([
    ['maxOutputTokens', 'MAX_OUTPUT_TOKENS'],
    ['tableName', 'TABLE_NAME'],
    ['userMonthlyBudgetUsd', 'USER_MONTHLY_BUDGET_USD'],
    ['anthropicApiKeySecretArn', 'ANTHROPIC_API_KEY_SECRET_ARN'],
    ['timeToFirstTokenP99AlarmMs', 'TIME_TO_FIRST_TOKEN_P99_ALARM_MS'],
    ['jwksUrl', 'JWKS_URL'],
    ['tracing', 'TRACING'],
  ])('names the environment variable of %s %s', (key, name) => {
    expect(envNameOf(key)).toBe(name);
  });
});

describe('docs/configuration.md', () => {
  it('is generated from the settings table (run npm run docs)', () => {
    const committed = readFileSync(
      new URL('../../../../docs/configuration.md', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(configurationDoc());
  });
});
