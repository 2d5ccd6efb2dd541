import { signDevToken } from '../local-stack/dev-token.js';
import type { ChatChild } from './chat-child.js';
import {
  type StackTurnRequest,
  type Summary,
  sdkClient,
  sdkTurn,
  stackTurn,
  summarize,
  type TurnOutcome,
} from './chat-turns.js';
import { METERED_TURNS } from './config.js';
import { type DynamoDbUsage, usageBetween } from './dynamodb-capacity.js';
import { cpuBetween, sampleCpu } from './machine-cpu.js';
import { runPool } from './stats.js';

/**
 * A row of the turn table, written `<path>@<concurrency>`:
 * - `direct@16`: straight to the local Claude with the Anthropic SDK (the floor);
 * - `messages@16`: the same SDK call through the stack's `/v1/messages` (the gateway), one user;
 * - `one-new@16`: through the stack, every client the same user, each turn a new conversation;
 * - `many-existing@16`: one user per client, each turn continuing that client's conversation
 *   (started before the timed turns);
 * - `unguarded-one-new@16`: the stack with budget and rate checks replaced by no-ops.
 */
export interface RowSpec {
  id: string;
  path: 'direct' | 'messages' | 'full' | 'unguarded';
  principals: 'one' | 'many';
  conversation: 'new' | 'existing';
  concurrency: number;
}

export const DEFAULT_ROWS = [
  'direct@1',
  'messages@1',
  'unguarded-one-new@1',
  'one-new@1',
  'one-existing@1',
  'direct@16',
  'messages@16',
  'unguarded-one-new@16',
  'one-new@16',
  'one-existing@16',
  'many-new@16',
  'direct@64',
  'one-new@64',
];

const ROW = /^(?:(direct|messages)|(unguarded-)?(one|many)-(new|existing))@(\d+)$/;

export function parseRow(id: string): RowSpec {
  const match = ROW.exec(id.trim());
  if (!match || Number(match[5]) < 1)
    throw new Error(
      `bad row ${JSON.stringify(id)}: expected direct@N, messages@N or [unguarded-](one|many)-(new|existing)@N`,
    );
  const [, sdk, unguarded, principals, conversation, concurrency] = match;
  return {
    id: id.trim(),
    path: sdk === 'direct' || sdk === 'messages' ? sdk : unguarded ? 'unguarded' : 'full',
    principals: (principals ?? 'one') as RowSpec['principals'],
    conversation: (conversation ?? 'new') as RowSpec['conversation'],
    concurrency: Number(concurrency),
  };
}

export function describeRow(row: RowSpec): string {
  if (row.path === 'direct') return 'direct to local Claude (SDK)';
  if (row.path === 'messages') return 'one principal, /v1/messages (SDK through the gateway)';
  const who = row.principals === 'one' ? 'one principal' : `${row.concurrency} principals`;
  const conversation = row.conversation === 'new' ? 'new conversation' : 'existing conversation';
  const guard = row.path === 'unguarded' ? ', no budget/rate checks' : '';
  return `${who}, ${conversation}${guard}`;
}

export interface RowResult extends Summary {
  id: string;
  path: string;
  /** Time to first token over `direct` at the same concurrency (ms), when that row ran. */
  addedTtftP50?: number;
  addedTtftP99?: number;
  /** CPU time of the chat process per turn (ms); absent for direct rows. */
  chatCpuMsPerTurn?: number;
  /** X-Ray segment documents the chat process sent per turn (tracing on, as deployed). */
  xrayDocumentsPerTurn?: number;
  /** How busy the machine's cores were over the timed turns (%), everything included. */
  machineBusyPercent?: number;
  /** CPU time of DynamoDB Local's JVM per turn (ms): here it shares the chat process's cores. */
  dynamodbLocalCpuMsPerTurn?: number;
  /** DynamoDB calls of the timed turns, and capacity of the turns after them, per turn. */
  dynamodbPerTurn?: DynamoDbPerTurn;
  wallSeconds: number;
}

export interface DynamoDbPerTurn {
  calls: number;
  rcu: number;
  wcu: number;
  reportedRcu: number;
  reportedWcu: number;
  byOperation: Record<string, number>;
  /** Totals over the row (not per turn): contention the client may never see. */
  conditionFailures: number;
  transactionConflicts: number;
  throttles: number;
}

/**
 * Per turn: calls and contention of `usage` over `turns`; capacity of `capacity` over its
 * own turns when it was measured apart (see runRow), else of `usage`.
 */
export function perTurn(
  usage: DynamoDbUsage,
  turns: number,
  capacity: { usage: DynamoDbUsage; turns: number } = { usage, turns },
): DynamoDbPerTurn {
  const each = (n: number) => n / turns;
  const eachMetered = (n: number) => n / capacity.turns;
  return {
    calls: each(usage.calls),
    rcu: eachMetered(capacity.usage.aws.rcu),
    wcu: eachMetered(capacity.usage.aws.wcu),
    reportedRcu: eachMetered(capacity.usage.reported.rcu),
    reportedWcu: eachMetered(capacity.usage.reported.wcu),
    byOperation: Object.fromEntries(
      Object.entries(usage.byOperation).map(([op, n]) => [op, each(n)]),
    ),
    conditionFailures: usage.conditionFailures,
    transactionConflicts: usage.transactionConflicts,
    throttles: usage.throttles,
  };
}

export interface RowContext {
  chat: ChatChild;
  claudeUrl: string;
  /** Distinguishes this run's users from an earlier run's on a kept table. */
  runId: string;
  dynamodbLocalPid: number | undefined;
  /** X-Ray segment documents the chat process has sent so far. */
  xrayDocuments: () => number;
}

/**
 * Warm-up turns (JIT, connections, conversations), then `turns` timed turns sending what the
 * function sends, then (through the stack) a few more in which DynamoDB is asked for each
 * call's capacity: asking slows DynamoDB Local, so the timed turns must not.
 */
export async function runRow(row: RowSpec, turns: number, context: RowContext): Promise<RowResult> {
  const started = performance.now();
  const warmUp = Math.min(turns, Math.max(20, row.concurrency));
  const throughStack = row.path !== 'direct';
  const meteredTurns = throughStack ? Math.max(METERED_TURNS, row.concurrency) : 0;
  const turn = await turnsOfRow(row, warmUp + turns + meteredTurns, context);
  await runPool(warmUp, row.concurrency, turn);
  if (throughStack) await context.chat.measureCapacity(false);
  // The direct rows do not touch the chat process.
  const snapshot = () =>
    Promise.all([
      row.path === 'direct' ? undefined : context.chat.snapshot(),
      sampleCpu(context.dynamodbLocalPid),
    ]);
  const [before, cpuBefore] = await snapshot();
  const tracedBefore = context.xrayDocuments();
  const outcomes = await runPool(turns, row.concurrency, turn);
  const [after, cpuAfter] = await snapshot();
  const traced = context.xrayDocuments() - tracedBefore;
  const cpu = cpuBetween(cpuBefore, cpuAfter, turns);
  const capacity = throughStack
    ? await meterCapacity(context.chat, meteredTurns, row, turn)
    : undefined;
  return {
    id: row.id,
    path: describeRow(row),
    ...summarize(outcomes, row.concurrency),
    ...(before && after
      ? {
          chatCpuMsPerTurn: (after.cpuUs - before.cpuUs) / 1000 / turns,
          xrayDocumentsPerTurn: traced / turns,
          ...cpu,
          dynamodbPerTurn: perTurn(usageBetween(before.dynamodb, after.dynamodb), turns, capacity),
        }
      : cpu.machineBusyPercent !== undefined && { machineBusyPercent: cpu.machineBusyPercent }),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

async function meterCapacity(
  chat: ChatChild,
  turns: number,
  row: RowSpec,
  turn: (i: number, worker: number) => Promise<TurnOutcome>,
): Promise<{ usage: DynamoDbUsage; turns: number }> {
  await chat.measureCapacity(true);
  const before = await chat.snapshot();
  await runPool(turns, row.concurrency, turn);
  const after = await chat.snapshot();
  return { usage: usageBetween(before.dynamodb, after.dynamodb), turns };
}

/**
 * Turns on every path of the stack, before any row is timed. DynamoDB Local's JVM keeps
 * compiling its hot paths over the first thousands of requests: without this, the first
 * rows measured a colder emulator than the last (a row's admission took 6.9 ms at p50 over
 * its first 100 turns, 4.7 ms after 800). DynamoDB on AWS is never cold.
 */
export async function warmUpStack(context: RowContext, turnsPerPath: number): Promise<void> {
  const warming = { ...context, runId: `${context.runId}-warm-up` };
  for (const id of ['messages@4', 'one-new@4', 'one-existing@4', 'unguarded-one-new@4']) {
    const row = parseRow(id);
    if (row.path === 'unguarded' && !context.chat.urls.unguarded) continue;
    await runPool(turnsPerPath, row.concurrency, await turnsOfRow(row, turnsPerPath, warming));
  }
}

/** How the row's clients make a turn; existing conversations are started here, untimed. */
async function turnsOfRow(
  row: RowSpec,
  total: number,
  context: RowContext,
): Promise<(i: number, worker: number) => Promise<TurnOutcome>> {
  if (row.path === 'direct') {
    const client = sdkClient(context.claudeUrl);
    return (i) => sdkTurn(client, message(i));
  }
  const tokens = await Promise.all(
    Array.from({ length: row.principals === 'one' ? 1 : row.concurrency }, (_, w) =>
      signDevToken(`bench-${context.runId}-${row.id}-${w}`),
    ),
  );
  const tokenOf = (worker: number) => tokens[worker % tokens.length] as string;
  if (row.path === 'messages') {
    const client = sdkClient(context.chat.urls.full, tokenOf(0));
    return (i) => sdkTurn(client, message(i));
  }
  const url = row.path === 'full' ? context.chat.urls.full : context.chat.urls.unguarded;
  if (!url) throw new Error(`row ${row.id}: the chat process has no unguarded stack`);
  // Existing conversations: each client continues conversations it started before the
  // timed turns, in turn, so that none grows past ~10 turns (a long history would measure
  // history paging instead).
  const conversations: string[][] = Array.from({ length: row.concurrency }, () => []);
  const used = new Array<number>(row.concurrency).fill(0);
  if (row.conversation === 'existing') {
    const perClient = Math.ceil(total / row.concurrency / 10);
    await runPool(perClient * row.concurrency, row.concurrency, async (i, worker) => {
      const first = await stackTurn({ url, token: tokenOf(worker), message: message(i) });
      if (first.ok && first.conversationId) conversations[worker]?.push(first.conversationId);
    });
  }
  return (i, worker) => {
    const request: StackTurnRequest = { url, token: tokenOf(worker), message: message(i) };
    const own = conversations[worker] ?? [];
    const count = (used[worker] ?? 0) + 1;
    used[worker] = count;
    const conversationId = own[count % own.length];
    return stackTurn(conversationId ? { ...request, conversationId } : request);
  };
}

const message = (i: number) => `Benchmark turn ${i}: tell me something.`;

/** Fills `addedTtftP50/P99` from the direct row at the same concurrency. */
export function compareWithDirect(rows: RowResult[]): void {
  for (const row of rows) {
    const direct = rows.find((r) => r.id === `direct@${row.concurrency}`);
    if (!direct || row.id === direct.id) continue;
    row.addedTtftP50 = row.ttftP50 - direct.ttftP50;
    row.addedTtftP99 = row.ttftP99 - direct.ttftP99;
  }
}
