import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadSettings } from '../../shared/config/load-settings.js';

const BASE = {
  TABLE_NAME: 't',
  JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs',
  ANTHROPIC_API_KEY: 'k',
  JWT_SECRET: 's',
};

describe('loadSettings', () => {
  it('applies documented defaults', () => {
    const settings = loadSettings(BASE);
    expect(settings.DEFAULT_MODEL).toBe('claude-sonnet-4-6');
    expect(settings.AUTH_MODE).toBe('hs256');
    expect(settings.allowedModels.has('claude-sonnet-4-6')).toBe(true);
  });

  it('reads lists and numbers from the environment', () => {
    const settings = loadSettings({
      ...BASE,
      ALLOWED_MODELS: 'claude-haiku-4-5, claude-opus-4-5',
      USER_MONTHLY_BUDGET_USD: '0.05',
    });
    expect([...settings.allowedModels]).toEqual([
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
      'claude-opus-4-5',
    ]);
    expect(settings.USER_MONTHLY_BUDGET_USD).toBe(0.05);
  });

  it('rejects a model without a price instead of serving it at zero cost', () => {
    expect(() => loadSettings({ ...BASE, ALLOWED_MODELS: 'claude-unknown-9' })).toThrow(
      /no price for model\(s\) claude-unknown-9/,
    );
  });

  it('accepts a new model once MODEL_PRICES prices it', () => {
    const prices = JSON.stringify({
      'claude-next': { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 },
    });
    expect(
      loadSettings({ ...BASE, DEFAULT_MODEL: 'claude-next', MODEL_PRICES: prices }).DEFAULT_MODEL,
    ).toBe('claude-next');
  });

  it('names the setting that is wrong', () => {
    expect(() => loadSettings({ ...BASE, USER_MONTHLY_BUDGET_USD: '-1' })).toThrow(
      /USER_MONTHLY_BUDGET_USD/,
    );
    expect(() => loadSettings({ ...BASE, AUTH_MODE: 'oidc' })).toThrow(/JWT_ISSUER/);
    expect(() => loadSettings({ ...BASE, ANTHROPIC_API_KEY: undefined })).toThrow(
      ConfigurationError,
    );
  });
});
