import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../../functions/maintenance/compose.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { startChatProcess } from '../support/chat-processes.js';
import { maintenanceSettings, scheduledRun } from '../support/maintenance-runs.js';
import { json } from '../support/sse.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';
/** The chat process's invocations last a minute: its calls' reservations expire then. */
const PAST_EXPIRY_MS = 61_000;
const SLOW_ANSWER = 'Tell me a long story [[local-claude: tokens=200 tps=20]]';

/**
 * A /v1/messages call whose function dies mid-call (SIGKILL: out of memory, a crash) never
 * settles: Claude bills what it generated, which nobody saw. The maintenance sweep, once the
 * reservation expired, bills it all it held, the most it can have cost, on the principal's
 * month and in the operators' usage report alike.
 */
describe('a /v1/messages call whose function dies before it settles', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ maintenanceEveryMs: 3_600_000 });
  });
  afterAll(() => stack.close());

  const heldBy = async (userId: string) =>
    (
      await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000).listReservations()
    ).filter((reservation) => reservation.userId === userId);

  /** The maintenance function as deployed, run once its clock is past the calls' expiry. */
  const sweepPastExpiry = async () => {
    const settings = maintenanceSettings(stack.tableName);
    const handler = composeMaintenance(settings, createMaintenanceAdapters(settings), {
      clock: () => Date.now() + PAST_EXPIRY_MS,
    });
    return scheduledRun(handler, 60_000);
  };

  const usageOf = async (userId: string) =>
    json(await stack.request(userId, 'GET', '/v1/usage')) as Promise<{
      requests: number;
      costUsd: number;
      budgetUsd: number;
      remainingUsd: number;
    }>;

  for (const stream of [true, false]) {
    it(`bills a ${stream ? 'streamed' : 'whole'} answer all it held, once`, async () => {
      const userId = `abandoned-${stream ? 'stream' : 'whole'}`;
      const { url, child } = await startChatProcess(stack, { leaseMs: 20_000, pieceMs: 100 });
      const client = new Anthropic({
        baseURL: url,
        authToken: await stack.token(userId),
        maxRetries: 0,
      });
      const params = {
        model: MODEL,
        max_tokens: 400,
        messages: [{ role: 'user' as const, content: SLOW_ANSWER }],
      };
      let seen = '';
      if (stream) {
        const answer = client.messages.stream(params);
        answer.on('text', (text) => {
          seen += text;
          if (seen.length > 40) child.kill('SIGKILL');
        });
        await answer.done().catch(() => undefined);
      } else {
        const answer = client.messages.create(params).catch(() => undefined);
        // Written upstream for ten seconds: it dies while the whole answer is awaited.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        child.kill('SIGKILL');
        await answer;
      }
      if (stream) expect(seen.length).toBeGreaterThan(40);

      const [held] = await heldBy(userId);
      expect(held?.ifAbandoned).toMatchObject({ api: 'messages', model: MODEL });
      const amountUsd = nanoToUsd(held!.amountNanoUsd);
      expect(await usageOf(userId)).toMatchObject({ requests: 0, costUsd: 0 });

      expect(await sweepPastExpiry()).toMatchObject({ abandoned: 1 });
      await sweepPastExpiry();

      const usage = await usageOf(userId);
      expect(usage).toMatchObject({ requests: 1, costUsd: amountUsd });
      // Nothing is held any more: what remains is the budget less what was billed.
      expect(usage.remainingUsd).toBeCloseTo(usage.budgetUsd - amountUsd, 9);
      expect(await heldBy(userId)).toEqual([]);
      const report = await json(
        await fetch(`${stack.url}/v1/admin/usage`, {
          headers: { authorization: `Bearer ${await stack.token('operator', { admin: true })}` },
        }),
      );
      expect(report.byPrincipal).toContainEqual(
        expect.objectContaining({ name: userId, requests: 1, costUsd: amountUsd }),
      );
    });
  }

  it('bills nothing for a call that settled, or that Claude refused before it began', async () => {
    const userId = 'abandoned-never';
    const client = new Anthropic({
      baseURL: stack.url,
      authToken: await stack.token(userId),
      maxRetries: 0,
    });
    await client.messages.create({
      model: MODEL,
      max_tokens: 40,
      messages: [{ role: 'user', content: 'Hello [[local-claude: tokens=5]]' }],
    });
    const refused = await client.messages
      .create({
        model: MODEL,
        max_tokens: 40,
        messages: [
          { role: 'user', content: 'Hello [[local-claude: fault=error-before status=400]]' },
        ],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    const before = await usageOf(userId);

    expect(await sweepPastExpiry()).toMatchObject({ abandoned: 0 });

    expect(await usageOf(userId)).toEqual(before);
    expect(before.requests).toBe(1);
  });
});
