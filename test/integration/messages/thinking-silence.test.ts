import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { MAX_OUTPUT_TOKENS_PER_SECOND } from '../../../shared/domain/tokens.js';
import { usageFromWire } from '../../../shared/gateway/wire-usage.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';
const prices = new PriceTable();
const month = () => monthOf(Date.now());

/**
 * Claude thinking without showing it (`display: "omitted"`, as Claude Code asks) sends
 * nothing but the API's keep-alive pings until its thought is done: a healthy call that a
 * watchdog sized for streaming text would cut, and bill as thinking that ran all the while.
 */
describe('/v1/messages while Claude thinks without showing it', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { STREAM_IDLE_TIMEOUT_MS: '1000', MESSAGES_STREAM_IDLE_TIMEOUT_MS: '3000' },
    });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack.close());

  const think = (userId: string, directive: string) =>
    stack.token(userId).then((token) =>
      new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 }).messages
        .stream({
          model: MODEL,
          max_tokens: 4000,
          thinking: { type: 'enabled', budget_tokens: 2048, display: 'omitted' },
          messages: [{ role: 'user', content: `Think [[local-claude: ${directive} tokens=5]]` }],
        })
        .finalMessage()
        .then(
          (message) => ({ message, error: undefined }),
          (error: unknown) => ({ message: undefined, error: error as APIError }),
        ),
    );

  it('is not held to the chat idle timeout: a 2 s thought comes through whole, billed exactly', async () => {
    const { message, error } = await think('quiet', 'thinking-tokens=400 tps=200 ping=60000');

    expect(error).toBeUndefined();
    expect(message?.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    const usage = await ledger.userMonth('quiet', month());
    expect(usage.spentNanoUsd).toBe(prices.costNanoUsd(MODEL, usageFromWire(message!.usage)));
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });

  it('lives on pings: a 4.5 s thought pinged every 500 ms outlasts a 3 s idle timeout', async () => {
    const { message, error } = await think('pinged', 'thinking-tokens=900 tps=200 ping=500');

    expect(error).toBeUndefined();
    expect(message?.usage.output_tokens).toBeGreaterThanOrEqual(900);
  });

  it('is cut once silent past it, not even a ping, and billed as much as it can have thought meanwhile', async () => {
    const { error } = await think('stalled', 'thinking-tokens=900 tps=200 ping=60000');

    expect(error?.type).toBe('timeout_error');
    await expect.poll(() => stack.claude.requests.at(-1)?.aborted).toBe(true);
    const usage = await ledger.userMonth('stalled', month());
    // Cut after 3 s of silence: 3 s at a speed no model reaches, never past max_tokens.
    expect(usage.outputTokens).toBeGreaterThanOrEqual(3 * MAX_OUTPUT_TOKENS_PER_SECOND);
    expect(usage.outputTokens).toBeLessThanOrEqual(4000);
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });
});
