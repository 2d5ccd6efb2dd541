import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from './support/captured-output.js';
import { startChatProcess } from './support/chat-processes.js';
import { answerText, collectSse, json, readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;
const LEASE_MS = 1_500;
const PIECE_MS = 100;
/**
 * Streams a slow answer from the process and kills it (SIGKILL: no code of it runs
 * again) a while into the answer. Returns what the client saw, each delta with the time
 * it arrived, and when the process died.
 */
async function chatUntilKilled(stack: TestStack, userId: string, body: Record<string, unknown>) {
  const { url, child } = await startChatProcess(stack, { leaseMs: LEASE_MS, pieceMs: PIECE_MS });
  const response = await fetch(`${url}/v1/chat`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.token(userId)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const seen: Array<{ text: string; atMs: number }> = [];
  let conversationId = '';
  let killedAtMs = 0;
  try {
    for await (const event of readSse(response)) {
      if (event.event === 'start') conversationId = String(event.data.conversationId);
      if (event.event === 'delta') seen.push({ text: String(event.data.text), atMs: Date.now() });
      if (seen.length === 12 && !killedAtMs) {
        killedAtMs = Date.now();
        child.kill('SIGKILL');
      }
    }
  } catch {
    // The connection dies with the process.
  }
  return { conversationId, seen, killedAtMs };
}

const storedAnswer = async (stack: TestStack, userId: string, conversationId: string) =>
  (await json(await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`)))
    .messages[1] as { content: string; stopReason: string; usage: { outputTokens: number } };

describe('a turn whose function dies mid-answer', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ maintenanceEveryMs: 3_600_000 });
  });
  afterAll(() => stack.close());

  it('keeps what the user was shown, bills it, frees the conversation and says so on stop', async () => {
    const { conversationId, seen, killedAtMs } = await chatUntilKilled(stack, 'crashed', {
      message: `Tell me a long story ${directive('tokens=80 tps=20')}`,
    });
    expect(seen).toHaveLength(12);

    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    const stop = await stack.request('crashed', 'POST', `/v1/conversations/${conversationId}/stop`);
    expect(stop.status).toBe(409);
    expect((await json(stop)).error.message).toMatch(/without finishing/);

    const answer = await storedAnswer(stack, 'crashed', conversationId);
    const shown = seen.map((delta) => delta.text).join('');
    // Everything shown up to a save interval before the process died is kept.
    const surelySaved = seen
      .filter((delta) => delta.atMs < killedAtMs - 2 * PIECE_MS)
      .map((delta) => delta.text)
      .join('');
    expect(answer.stopReason).toBe('interrupted');
    expect(shown.startsWith(answer.content)).toBe(true);
    expect(answer.content.startsWith(surelySaved)).toBe(true);
    expect(answer.content.length).toBeGreaterThan(0);

    const usage = await json(await stack.request('crashed', 'GET', '/v1/usage'));
    expect(usage.requests).toBe(1);
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeGreaterThan(0);
    // No hold is left: what remains is the budget less what was spent.
    expect(usage.remainingUsd).toBeCloseTo(usage.budgetUsd - usage.costUsd, 9);

    const next = await stack.chat('crashed', { conversationId, message: 'Are you back?' });
    expect(next.status).toBe(200);
  });

  it('is ended by the maintenance sweep though nobody touches the conversation again', async () => {
    const { conversationId } = await chatUntilKilled(stack, 'forgotten', {
      message: `Tell me a long story ${directive('tokens=80 tps=20')}`,
    });
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));

    expect(await stack.sweep()).toMatchObject({ recovered: 1 });

    expect((await storedAnswer(stack, 'forgotten', conversationId)).stopReason).toBe('interrupted');
    const usage = await json(await stack.request('forgotten', 'GET', '/v1/usage'));
    expect(usage.remainingUsd).toBeCloseTo(usage.budgetUsd - usage.costUsd, 9);
    // The operators' report has the call, at what the recovery billed.
    const report = await json(
      await fetch(`${stack.url}/v1/admin/usage`, {
        headers: { authorization: `Bearer ${await stack.token('operator', { admin: true })}` },
      }),
    );
    expect(report.byPrincipal).toContainEqual(
      expect.objectContaining({ name: 'forgotten', requests: 1, costUsd: usage.costUsd }),
    );
  });
});

describe('a turn whose heartbeats fail while its answer streams on', () => {
  let stack: TestStack;
  /** Users whose turns cannot renew their lease (the conversation item's writes throttled). */
  const throttled = new Set<string>();
  beforeAll(async () => {
    stack = await startTestStack({
      maintenanceEveryMs: 3_600_000,
      chatTuning: { turnLeaseMs: LEASE_MS, answerPieceIntervalMs: PIECE_MS },
      observeChatDynamoDb: (client) => {
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { UpdateExpression?: string; Key?: { pk?: unknown } };
            const pk = JSON.stringify(input.Key?.pk ?? '');
            const renewal = input.UpdateExpression?.startsWith('SET activeTurnLeaseUntil');
            if (context.commandName === 'UpdateItemCommand' && renewal) {
              if ([...throttled].some((user) => pk.includes(`USER#${user}#`))) {
                throw Object.assign(new Error('injected throttle'), {
                  name: 'ProvisionedThroughputExceededException',
                  $metadata: { httpStatusCode: 400 },
                });
              }
            }
            return next(args);
          },
          { step: 'initialize', name: 'throttleLeases' },
        );
      },
    });
  });
  afterAll(() => stack.close());

  it('stops itself before its lease can run out: what it showed is stored, billed once, and nothing is left to recover', async () => {
    throttled.add('stalled');
    const events = await stack
      .chat('stalled', { message: `Tell me a long story ${directive('tokens=300 tps=60')}` })
      .then(collectSse);

    // Within one heartbeat of the lease's end, rather than streaming on to the end while a
    // sweep or a resume could take the conversation over and store less than it showed.
    const end = events.at(-1)!;
    expect(end.data).toMatchObject({ stopReason: 'interrupted' });
    expect(Number((end.data.usage as { outputTokens: number }).outputTokens)).toBeLessThan(300);
    const conversationId = String(events[0]!.data.conversationId);
    const stored = await storedAnswer(stack, 'stalled', conversationId);
    expect(stored.content).toBe(answerText(events));
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(await stack.sweep()).toMatchObject({ recovered: 0 });

    const billed = await json(await stack.request('stalled', 'GET', '/v1/usage'));
    expect(billed).toMatchObject({ requests: 1, costUsd: end.data.costUsd });
    expect(billed.remainingUsd).toBeCloseTo(billed.budgetUsd - billed.costUsd, 9);
    const report = await json(
      await fetch(`${stack.url}/v1/admin/usage`, {
        headers: { authorization: `Bearer ${await stack.token('operator', { admin: true })}` },
      }),
    );
    expect(report.byPrincipal).toContainEqual(
      expect.objectContaining({
        name: 'stalled',
        requests: 1,
        outputTokens: billed.outputTokens,
        costUsd: billed.costUsd,
      }),
    );
  });
});

describe('a dead turn the user ends by going on', () => {
  let stack: TestStack;
  const previous = {
    level: process.env.POWERTOOLS_LOG_LEVEL,
    metricsDisabled: process.env.POWERTOOLS_METRICS_DISABLED,
  };
  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    stack = await startTestStack({ maintenanceEveryMs: 3_600_000 });
  });
  afterAll(async () => {
    await stack.close();
    process.env.POWERTOOLS_LOG_LEVEL = previous.level;
    process.env.POWERTOOLS_METRICS_DISABLED = previous.metricsDisabled;
  });

  it('is counted for the dashboard and logged for the operator, as one the sweep ends is', async () => {
    const { conversationId, seen } = await chatUntilKilled(stack, 'went-on', {
      message: `Tell me a long story ${directive('tokens=80 tps=20')}`,
    });
    expect(seen).toHaveLength(12);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));

    // Metrics go to stdout, warnings to stderr.
    const output = captureOutput([process.stdout, process.stderr]);
    try {
      const next = await stack.chat('went-on', { conversationId, message: 'Are you back?' });
      expect(next.status).toBe(200);
      await collectSse(next);
      // Metrics are flushed as the request ends, which may be after its last byte is read.
      await expect
        .poll(output.records)
        .toContainEqual(expect.objectContaining({ service: 'chat', TurnsRecovered: 1 }));
    } finally {
      output.restore();
    }

    expect(output.records()).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'ended a turn whose function died',
        userId: 'went-on',
        conversationId,
        costUsd: expect.any(Number),
      }),
    );
    expect((await storedAnswer(stack, 'went-on', conversationId)).stopReason).toBe('interrupted');
  });
});
