import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { startChatProcess } from './support/chat-processes.js';
import { capturePublishedMetrics, emfLines } from './support/published-metrics.js';
import { readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;
const LEASE_MS = 1_500;
const PIECE_MS = 100;
const STORY = `Tell me a long story ${directive('tokens=80 tps=20')}`;
/** Into the answer (of 4 s) when its function is killed or frozen: about 12 of its tokens. */
const SIGNAL_AFTER_MS = 600;

/** The `CostUsd` of EMF lines (an array when one line carries several values). */
function costUsdOf(lines: ReadonlyArray<Record<string, unknown>>): number {
  return lines
    .flatMap((line) => (line.CostUsd === undefined ? [] : [line.CostUsd].flat()))
    .reduce((sum: number, value) => sum + Number(value), 0);
}

/**
 * Streams a slow answer from a chat function of its own process and, a while into the
 * answer, does `signal` to it (SIGKILL: it dies; SIGSTOP: it stalls until sent SIGCONT).
 * @returns the process, its stdout lines, and the response read to its end (or its death)
 */
async function chatThen(
  stack: TestStack,
  userId: string,
  signal: 'SIGKILL' | 'SIGSTOP',
): Promise<{ child: ChildProcess; lines: string[]; read: Promise<void> }> {
  const { url, child, lines } = await startChatProcess(stack, {
    leaseMs: LEASE_MS,
    pieceMs: PIECE_MS,
  });
  const response = await fetch(`${url}/v1/chat`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.token(userId)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ message: STORY }),
  });
  const { promise: sent, resolve: signalled, reject: notSent } = Promise.withResolvers<void>();
  let timer: NodeJS.Timeout | undefined;
  const read = (async () => {
    const seen: string[] = [];
    try {
      for await (const event of readSse(response)) {
        seen.push(
          event.event === 'delta' ? 'delta' : `${event.event} ${JSON.stringify(event.data)}`,
        );
        // A while into the answer, by time: a busy machine sends the text in fewer deltas.
        timer ??= setTimeout(() => {
          child.kill(signal);
          signalled();
        }, SIGNAL_AFTER_MS);
      }
    } catch {
      // The connection dies with the process.
    }
    // An answer that ended (or failed) before the signal was sent: say how, not hang.
    clearTimeout(timer);
    notSent(new Error(`the answer ended before the signal: ${seen.join(' | ')}`));
  })();
  await sent;
  return { child, lines, read };
}

/**
 * `CostUsd`, summed over the functions that publish it (the daily spend alarm and the
 * dashboard's spend read that sum), must be what the ledger spent: a dead turn's spend is
 * published by what ended it, and a turn that had only stalled and settles late is not
 * counted twice.
 */
describe('the CostUsd of turns whose function died', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;
  /** EMF lines this process writes: the in-process sweep's and chat function's. */
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({ maintenanceEveryMs: 3_600_000 });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  beforeEach(() => {
    published.length = 0;
  });
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  const spentNanoUsd = async (userId: string) =>
    (await ledger.userMonth(userId, monthOf(Date.now()))).spentNanoUsd;

  it('is published by the sweep that ends a dead turn, as much as the ledger spent', async () => {
    const { lines, read } = await chatThen(stack, 'died', 'SIGKILL');
    await read;
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));

    expect(await stack.sweep()).toMatchObject({ recovered: 1 });

    const spent = await spentNanoUsd('died');
    expect(spent).toBeGreaterThan(0);
    expect(published).toContainEqual(expect.objectContaining({ service: 'maintenance' }));
    const costUsd = costUsdOf([...published, ...emfLines(lines)]);
    expect(costUsd).toBeCloseTo(spent / 1e9, 12);
  });

  it("is published by the chat function when the user's stop ends the dead turn", async () => {
    const { lines, read } = await chatThen(stack, 'stopped-dead', 'SIGKILL');
    await read;
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    const conversations = await (
      await stack.request('stopped-dead', 'GET', '/v1/conversations')
    ).json();
    const [conversation] = (conversations as { conversations: Array<{ id: string }> })
      .conversations;

    const stop = await stack.request(
      'stopped-dead',
      'POST',
      `/v1/conversations/${conversation!.id}/stop`,
    );
    expect(stop.status).toBe(409);

    const spent = await spentNanoUsd('stopped-dead');
    expect(spent).toBeGreaterThan(0);
    await vi.waitFor(() =>
      expect(costUsdOf([...published, ...emfLines(lines)])).toBeCloseTo(spent / 1e9, 12),
    );
    expect(published).toContainEqual(
      expect.objectContaining({ service: 'chat', TurnsRecovered: 1 }),
    );
  });

  it('counts a turn that had only stalled and settles after its recovery once', async () => {
    const { child, lines, read } = await chatThen(stack, 'stalled', 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
      expect(await stack.sweep()).toMatchObject({ recovered: 1 });
      const recoveredUsd = costUsdOf(published);
      expect(recoveredUsd).toBeGreaterThan(0);

      // It wakes, finds the conversation taken over, and settles its own figures.
      child.kill('SIGCONT');
      await read;
      await vi.waitFor(() => expect(emfLines(lines)).not.toEqual([]), { timeout: 10_000 });

      const spent = await spentNanoUsd('stalled');
      const costUsd = costUsdOf([...published, ...emfLines(lines)]);
      expect(costUsd).toBeCloseTo(spent / 1e9, 12);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
