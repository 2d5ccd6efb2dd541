import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import type { UsageLedger } from '../../../shared/ports/usage-ledger.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';

/** The ledger, but for `release`, which fails (after the SDK's retries) while `failing.on`. */
function failingToRelease(ledger: UsageLedger, failing: { on: boolean }): UsageLedger {
  return new Proxy(ledger, {
    get(target, name, receiver) {
      const member = Reflect.get(target, name, receiver);
      if (name !== 'release') return typeof member === 'function' ? member.bind(target) : member;
      return async (...args: Parameters<UsageLedger['release']>) => {
        if (failing.on) {
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        return target.release(...args);
      };
    },
  });
}

/**
 * A response-cache hit is admitted as its call would be and its hold given back at once. When
 * that release fails (a throttle), or the function dies before it, the hold is left: it must
 * be the minute sweep's to take back, not the principal's budget's until the function's deadline.
 */
describe('a response-cache hit whose hold could not be given back', () => {
  let stack: TestStack;
  const failing = { on: false };

  beforeAll(async () => {
    stack = await startTestStack({
      env: { RESPONSE_CACHE_TTL_SECONDS: '300' },
      // Swept when the test says, not on a schedule.
      maintenanceEveryMs: 3_600_000,
      customizeChat: (adapters) => ({
        ...adapters,
        ledger: failingToRelease(adapters.ledger, failing),
      }),
    });
  });
  afterAll(() => stack.close());

  it('leaves a hold the next sweep reclaims', async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      authToken: await stack.token('unreleased'),
      maxRetries: 0,
    });
    const params = {
      model: MODEL,
      max_tokens: 40,
      messages: [{ role: 'user' as const, content: 'cached [[local-claude: tokens=8]]' }],
    };
    await client.messages.create(params);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const heldBy = async (userId: string) =>
      (await ledger.listReservations()).filter((reservation) => reservation.userId === userId);

    failing.on = true;
    await client.messages
      .create(params)
      .withResponse()
      .catch(() => undefined)
      .finally(() => {
        failing.on = false;
      });
    // Whatever the caller was told, the admission's hold could not be given back.
    expect(await heldBy('unreleased')).toHaveLength(1);
    await stack.sweep();

    expect(await heldBy('unreleased')).toEqual([]);
  });
});
