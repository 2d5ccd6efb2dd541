import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoDbClient } from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { captureOutput } from '../support/captured-output.js';
import { sweepAt } from '../support/streaming-turns.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { withThrottledMethod } from '../support/throttled-method.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';
const USER_REQUESTS_PER_MINUTE = 2;
const LEFT_HELD = 'could not give back what a call held';

/**
 * A response-cache hit is admitted as its call would be and its hold given back at once; a
 * refused call gives back what it held. When that release fails (a throttle), or the function
 * dies before it, the hold is left: it must be the sweep's to take back, not the principal's
 * budget's until the function's deadline, and the caller still gets its answer or its refusal.
 */
describe('a hold that could not be given back', () => {
  let stack: TestStack;
  const failing = { on: false };
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    stack = await startTestStack({
      env: {
        RESPONSE_CACHE_TTL_SECONDS: '300',
        USER_REQUESTS_PER_MINUTE: String(USER_REQUESTS_PER_MINUTE),
      },
      // Swept when the test says, not on a schedule.
      maintenanceEveryMs: 3_600_000,
      customizeChat: (adapters) => ({
        ...adapters,
        ledger: withThrottledMethod(adapters.ledger, 'release', failing),
      }),
    });
  });
  afterAll(async () => {
    await stack.close();
    process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  });
  const heldBy = async (userId: string) =>
    (
      await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000).listReservations()
    ).filter((reservation) => reservation.userId === userId);
  /** Runs `act` while releases fail, and gives back the log lines written meanwhile. */
  const whileReleasesFail = async <T>(act: () => Promise<T>) => {
    const output = captureOutput([process.stdout, process.stderr]);
    failing.on = true;
    try {
      return { outcome: await act(), logs: () => output.records() };
    } finally {
      failing.on = false;
      output.restore();
    }
  };

  it('serves a response-cache hit, and leaves its hold to the next sweep', async () => {
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
    const made = await client.messages.create(params);

    const { outcome: hit, logs } = await whileReleasesFail(() =>
      client.messages.create(params).withResponse(),
    );

    expect(hit.response.headers.get('x-cache')).toBe('hit');
    expect(hit.data.content).toEqual(made.content);
    expect(logs()).toContainEqual(expect.objectContaining({ level: 'WARN', message: LEFT_HELD }));
    expect(await heldBy('unreleased')).toHaveLength(1);
    await stack.sweep();
    expect(await heldBy('unreleased')).toEqual([]);
  });

  it('refuses a call past the rate limit as a 429, and leaves its hold to the sweep', async () => {
    await awayFromMinuteEnd();
    const client = new Anthropic({
      baseURL: stack.url,
      authToken: await stack.token('refused-unreleased'),
      maxRetries: 0,
    });
    const ask = (content: string) =>
      client.messages.create({
        model: MODEL,
        max_tokens: 40,
        messages: [{ role: 'user', content: `${content} [[local-claude: tokens=5]]` }],
      });
    for (let i = 0; i < USER_REQUESTS_PER_MINUTE; i++) await ask(`allowed ${i}`);

    const { outcome: refusal, logs } = await whileReleasesFail(() =>
      ask('one too many').catch((error: unknown) => error),
    );

    expect(refusal).toBeInstanceOf(Anthropic.RateLimitError);
    expect(logs()).toContainEqual(expect.objectContaining({ level: 'WARN', message: LEFT_HELD }));
    // The budget's hold was made before the window refused; its expiry is the call's deadline.
    const [held] = await heldBy('refused-unreleased');
    expect(held).toBeDefined();
    const dynamodb = createDynamoDbClient(inject('dynamodbEndpoint'));
    await sweepAt(dynamodb, stack.tableName, held!.expiresAtMs + 1);
    dynamodb.destroy();
    expect(await heldBy('refused-unreleased')).toEqual([]);
  });

  it('tells a chat turn Claude refused why, not that its hold could not be given back', async () => {
    const { outcome: response, logs } = await whileReleasesFail(async () => {
      const refused = await stack.chat('model-refused-unreleased', {
        message: 'long [[local-claude: fault=error-before status=400 prompt-tokens=215000]]',
      });
      return { status: refused.status, body: (await refused.json()) as { error: unknown } };
    });

    expect(response).toEqual({
      status: 502,
      body: expect.objectContaining({
        error: {
          type: 'invalid_request_error',
          message:
            "the model rejected the request: the prompt is 215000 tokens, more than the model's 200000",
        },
      }),
    });
    expect(logs()).toContainEqual(expect.objectContaining({ level: 'WARN', message: LEFT_HELD }));
    expect(await heldBy('model-refused-unreleased')).toHaveLength(1);
  });
});
