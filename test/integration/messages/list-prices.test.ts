import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const month = () => monthOf(Date.now());

/**
 * What a call through /v1/messages is billed, pinned to Anthropic's published prices
 * (platform.claude.com/docs/en/about-claude/pricing) rather than to our own price table.
 */
describe('/v1/messages list prices in a workspace held to the US', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;

  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        WORKSPACE_INFERENCE_GEO: 'us',
        ALLOWED_MODELS: 'claude-sonnet-4-6,claude-haiku-4-5',
      },
    });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack.close());

  const ask = async (userId: string, model: string) => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token(userId) });
    const content = 'Price me [[local-claude: input-tokens=100000 tokens=2000]]';
    const message = await client.messages
      .stream({ model, max_tokens: 4000, messages: [{ role: 'user', content }] })
      .finalMessage();
    return { message, spentUsd: nanoToUsd((await ledger.userMonth(userId, month())).spentNanoUsd) };
  };

  it('bills Claude Haiku 4.5 at its list price: models before 4.6 are never billed US inference (it was billed 1.1 times)', async () => {
    const { message, spentUsd } = await ask('haiku-in-us', 'claude-haiku-4-5');

    expect(message.usage.inference_geo).toBe('not_available');
    expect(message.usage).toMatchObject({ input_tokens: 100_000, output_tokens: 2_000 });
    // 100,000 x $1 + 2,000 x $5 per million tokens
    expect(spentUsd).toBe(0.11);
  });

  it('bills Claude Sonnet 4.6 at 1.1 times its list price in the US workspace', async () => {
    const { message, spentUsd } = await ask('sonnet-in-us', 'claude-sonnet-4-6');

    expect(message.usage.inference_geo).toBe('global');
    // (100,000 x $3 + 2,000 x $15 per million tokens) x 1.1: the workspace's, as the
    // gateway cannot tell what the upstream's default did; local Claude reports global.
    expect(spentUsd).toBe(0.33);
  });
});
