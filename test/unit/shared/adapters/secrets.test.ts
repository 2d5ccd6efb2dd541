import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { describe, expect, it, vi } from 'vitest';
import { anthropicApiKeySource, readAhead } from '../../../../shared/adapters/secrets.js';
import { ANTHROPIC_API_KEY_PLACEHOLDER } from '../../../../shared/config/secret-placeholders.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic-AbCdEf';

/** Secrets Manager, as Powertools reads it, holding one value. */
const holding = (value: string | undefined) => () =>
  ({ get: async () => value }) as unknown as SecretsProvider;

const anthropicKey = (value: string | undefined) =>
  anthropicApiKeySource({ arn: ARN, provider: holding(value) });

describe('a secret read from Secrets Manager', () => {
  it('is its value', async () => {
    await expect(anthropicKey('sk-ant-api03-abc')()).resolves.toBe('sk-ant-api03-abc');
  });

  it("is refused while it holds the stack's placeholder, saying how to set it", async () => {
    await expect(anthropicKey(ANTHROPIC_API_KEY_PLACEHOLDER)()).rejects.toThrow(
      /Anthropic API key .*placeholder: put the value in it/,
    );
  });

  it('is refused when empty', async () => {
    await expect(anthropicKey('')()).rejects.toThrow(/has no value/);
    await expect(anthropicKey('\n')()).rejects.toThrow(/has no value/);
  });

  it('is the key without the newline a file stored around it, which no HTTP header may carry', async () => {
    await expect(anthropicKey('sk-ant-api03-abc\n')()).resolves.toBe('sk-ant-api03-abc');
    await expect(anthropicKey(`${ANTHROPIC_API_KEY_PLACEHOLDER}\r\n`)()).rejects.toThrow(
      /placeholder/,
    );
  });

  it('is refused, without quoting it, when a line break inside it would keep it out of every header', async () => {
    const read = anthropicKey('sk-ant-api03-abc\n# the old one: sk-ant-api03-def');
    await expect(read()).rejects.toThrow(/Anthropic API key .*line break/);
    await expect(read()).rejects.not.toThrow(/sk-ant/);
  });
});

describe('a secret read again', () => {
  it('comes from the cache of the one provider it was first read through, not a new one per read', async () => {
    let providersMade = 0;
    const provider = () => {
      providersMade += 1;
      const cache = new Map<string, string>();
      return {
        get: async (arn: string) => {
          if (!cache.has(arn)) cache.set(arn, 'sk-ant-api03-abc');
          return cache.get(arn);
        },
      } as unknown as SecretsProvider;
    };
    const key = anthropicApiKeySource({ arn: ARN, provider });

    for (let call = 0; call < 3; call++) await expect(key()).resolves.toBe('sk-ant-api03-abc');

    expect(providersMade).toBe(1);
  });
});

describe('a secret read ahead', () => {
  /** A source that counts its reads, each answered when `answer` is called. */
  function pendingReads() {
    const answers: Array<(value: string | Error) => void> = [];
    const source = () =>
      new Promise<string>((resolve, reject) => {
        answers.push((value) => (value instanceof Error ? reject(value) : resolve(value)));
      });
    return { source, answers };
  }

  it('is not read a second time at once by a use meanwhile: the use waits for it', async () => {
    const { source, answers } = pendingReads();
    const ahead = readAhead(source);
    const used = ahead.source();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answers).toHaveLength(1);
    answers[0]!('the secret');
    // The source's own cache answers the use's read once the read ahead has.
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[1]!('the secret');
    await expect(used).resolves.toBe('the secret');
  });

  it('fails a use that waited for it with its own failure: the use makes no second read', async () => {
    const { source, answers } = pendingReads();
    const ahead = readAhead(source);
    const used = ahead.source();
    used.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The SDK's attempts are spent on it already: reading again would double the wait.
    answers[0]!(new Error('Secrets Manager unreachable'));
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(answers).toHaveLength(1);
    await expect(used).rejects.toThrow('Secrets Manager unreachable');
  });

  it('is read again by the first use when it failed, which fails only if that read does', async () => {
    const { source, answers } = pendingReads();
    const ahead = readAhead(source);
    answers[0]!(new Error('Secrets Manager unreachable'));
    await expect(ahead.read).resolves.toBeUndefined();

    const used = ahead.source();
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[1]!('the secret');
    await expect(used).resolves.toBe('the secret');
  });
});
