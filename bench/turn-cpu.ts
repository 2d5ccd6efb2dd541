/**
 * npm run bench:turn-cpu: the chat process's CPU per short turn (bench/typical-turn.ts's short
 * turn: a new conversation, ~30 tokens at 1,000 tokens/s), in µs, medians over rounds of
 * sequential turns after a warm-up. Quicker than `npm run bench` and steadier than its
 * timings: it counts the chat process's own CPU (process.cpuUsage), not the wall clock.
 *   --turns=200      timed turns per round
 *   --rounds=3       rounds (a median each)
 *   --warm-up=300    untimed turns first
 *   --untraced       without Lambda's tracing environment (traced by default, as deployed)
 *   --ab=NAME        two chat processes, with NAME=0 and NAME=1 in their environment, their
 *                    turns interleaved in blocks of 20 (to compare a change behind a switch)
 * BENCH_CHAT_NODE_ARGS passes Node flags to the chat process as for `npm run bench`
 * (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof').
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { signDevToken } from '../local-stack/dev-token.js';
import { tracedLambdaEnvironment } from '../local-stack/lambda-runtime/traced-environment.js';
import { startLocalClaude } from '../local-stack/local-claude/index.js';
import { startBenchBackends, UNLIMITED_CHAT_ENV } from './backends.js';
import { type ChatChild, startChatChild } from './chat-child.js';
import { stackTurn } from './chat-turns.js';
import { median } from './stats.js';
import { startXRayDaemon } from './xray-daemon.js';

const flags = new Map(
  process.argv.slice(2).map((arg) => {
    const match = /^--([a-z-]+)(?:=(\w+))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    return [match[1] as string, match[2] ?? '1'];
  }),
);
const turns = Number(flags.get('turns') ?? 200);
const rounds = Number(flags.get('rounds') ?? 3);
const warmUp = Number(flags.get('warm-up') ?? 300);
const traced = !flags.has('untraced');
const ab = process.argv
  .slice(2)
  .find((arg) => arg.startsWith('--ab='))
  ?.slice(5);

const { dynamodb, sqs } = await startBenchBackends();
const claude = await startLocalClaude({ timeToFirstTokenMs: 50, tokensPerSecond: 1000 });
const xrayDaemon = await startXRayDaemon();
const startChat = (extra: Record<string, string>) =>
  startChatChild({
    dynamodbEndpoint: dynamodb.endpoint,
    sqsEndpoint: sqs.endpoint,
    claudeUrl: claude.url,
    outDir: resolve('bench/results'),
    lambdaEnvironment: { ...(traced ? tracedLambdaEnvironment(xrayDaemon.address) : {}), ...extra },
    env: UNLIMITED_CHAT_ENV,
    unguarded: false,
  });
// --ab=NAME: two chat processes, NAME=0 and NAME=1, their turns interleaved in blocks, so
// that what else the machine does weighs on both alike.
const variants = ab ? [`${ab}=0`, `${ab}=1`] : [''];
const chats: ChatChild[] = [];
try {
  for (const variant of variants) {
    const [name, value] = variant.split('=');
    chats.push(await startChat(name ? { [name]: value as string } : {}));
  }
  const token = await signDevToken(`bench-turn-cpu-${Date.now().toString(36)}`);
  let failed = 0;
  const turn = async (chat: ChatChild, i: number) => {
    const start = (await chat.snapshot()).cpuUs;
    let firstToken = start;
    const outcome = await stackTurn({
      url: chat.urls.full,
      token,
      message: `Short turn ${i}. [[local-claude: tps=1000]]`,
      onFirstToken: async () => {
        firstToken = (await chat.snapshot()).cpuUs;
      },
    });
    const end = (await chat.snapshot()).cpuUs;
    if (!outcome.ok) failed += 1;
    return { before: firstToken - start, total: end - start };
  };
  for (const chat of chats) for (let i = 0; i < warmUp; i++) await turn(chat, i);
  const totals = chats.map((): number[] => []);
  const befores = chats.map((): number[] => []);
  const block = 20;
  for (let round = 1; round <= rounds; round++) {
    const measured = chats.map((): Array<{ before: number; total: number }> => []);
    const ticksBefore = await Promise.all(chats.map((chat) => ticks(chat.pid)));
    for (let i = 0; i < turns; i += block)
      for (const [c, chat] of chats.entries())
        for (let j = i; j < Math.min(turns, i + block); j++) measured[c]?.push(await turn(chat, j));
    const ticksAfter = await Promise.all(chats.map((chat) => ticks(chat.pid)));
    const line = chats.map((_, c) => {
      const total = median((measured[c] ?? []).map((m) => m.total));
      const before = median((measured[c] ?? []).map((m) => m.before));
      totals[c]?.push(total);
      befores[c]?.push(before);
      const a = ticksBefore[c] as Ticks;
      const b = ticksAfter[c] as Ticks;
      const kernel = (b.system - a.system) / (b.user + b.system - a.user - a.system);
      return `${variants[c] || 'as built'}: ${total} µs per turn, ${before} before the first token, ${(kernel * 100).toFixed(0)}% kernel`;
    });
    console.log(`round ${round}: ${line.join('; ')}`);
  }
  for (const [c] of chats.entries())
    console.log(
      `${traced ? 'traced' : 'untraced'} ${variants[c] || ''}: median of rounds ${median(totals[c] ?? [])} µs per turn, ${median(befores[c] ?? [])} µs before the first token${failed ? `; ${failed} turns failed` : ''}`,
    );
} finally {
  for (const chat of chats) await chat.stop();
  await Promise.all([dynamodb.stop(), sqs.stop(), claude.close(), xrayDaemon.close()]);
}
process.exit(0);

/** The process's user and system CPU so far, in clock ticks (/proc/<pid>/stat). */
type Ticks = { user: number; system: number };

async function ticks(pid: number): Promise<Ticks> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), system: Number(fields[12]) };
}
