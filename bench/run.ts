/**
 * npm run bench: what the stack adds to a streamed chat turn, measured through the local
 * function URL against the same request straight to the local Claude; what a typical turn
 * costs on AWS next to its Claude cost, and the chat memory size that follows from the
 * measured RSS and CPU; plus bundle sizes and cold import times. A benchmark, not a test: it
 * reports, it never asserts. Rows and turn counts: see config.ts. Writes
 * bench/results/latest.{json,md}, the latter ending with the run's line for bench/history.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { tracedLambdaEnvironment } from '../local-stack/lambda-runtime/traced-environment.js';
import { startLocalClaude } from '../local-stack/local-claude/index.js';
import { startBenchBackends, UNLIMITED_CHAT_ENV } from './backends.js';
import { measureBundles } from './bundles.js';
import { type ChatChild, startChatChild } from './chat-child.js';
import { benchConfig, turnsOf, WARM_UP_TURNS_PER_PATH } from './config.js';
import { recommendMemory, turnCost } from './cost.js';
import { type BenchResults, markdown, rowLine } from './report.js';
import { compareWithDirect, describeRow, type RowResult, runRow, warmUpStack } from './rows.js';
import { measureTypicalTurns } from './typical-turn.js';
import { startXRayDaemon } from './xray-daemon.js';
import { yardstick } from './yardstick.js';

const config = benchConfig();
const CLAUDE = { timeToFirstTokenMs: 50, tokensPerSecond: 1000 };
const outDir = resolve('bench/results');
mkdirSync(outDir, { recursive: true });
const log = (line: string) => console.log(line);
await waitForQuiet(config.waitQuietSeconds);
const loadBefore = loadavg()[0] as number;
log(`bench: ${config.rows.length} rows × ${config.turns} turns; load average ${loadBefore}`);
if (loadBefore > availableParallelism() / 2)
  log('  the machine is busy: timings will be slower and noisier than on a quiet one');

const yardstickBefore = yardstick();
log(`yardstick: ${yardstickBefore.toFixed(1)} ms (a fixed piece of work: this machine's speed)`);

// Cold imports first, while nothing else runs: a JVM winding down or a busy core skews them most.
if (config.bundles) log('bundles: sizes and cold imports…');
const bundles = config.bundles ? await measureBundles(outDir) : [];

const { dynamodb, sqs } = await startBenchBackends();
// The upstream lives here, in the bench's process: on AWS it is not the function's work.
const claude = await startLocalClaude(CLAUDE);
const xrayDaemon = await startXRayDaemon();
const chatOptions = {
  dynamodbEndpoint: dynamodb.endpoint,
  sqsEndpoint: sqs.endpoint,
  outDir,
  lambdaEnvironment: tracedLambdaEnvironment(xrayDaemon.address),
  env: UNLIMITED_CHAT_ENV,
};

const rows: RowResult[] = [];
let typical: BenchResults['typical'];
let chat: ChatChild | undefined;
try {
  const unguarded = config.rows.some((row) => row.path === 'unguarded');
  chat = await startChatChild({ ...chatOptions, claudeUrl: claude.url, unguarded });
  // Direct rows first at each concurrency, so every stack row has its floor to compare with.
  const ordered = [...config.rows].sort(
    (a, b) =>
      a.concurrency - b.concurrency || Number(b.path === 'direct') - Number(a.path === 'direct'),
  );
  const runId = Date.now().toString(36);
  const rowContext = {
    chat,
    claudeUrl: claude.url,
    runId,
    dynamodbLocalPid: dynamodb.pid,
    xrayDocuments: xrayDaemon.documents,
  };
  if (ordered.some((row) => row.path !== 'direct')) {
    log(`warm-up: ${WARM_UP_TURNS_PER_PATH} turns on each path of the stack…`);
    await warmUpStack(rowContext, WARM_UP_TURNS_PER_PATH);
    claude.requests.length = 0;
  }
  for (const row of ordered) {
    const turns = turnsOf(config, row);
    log(`row ${row.id} (${describeRow(row)}, ${turns} turns)…`);
    rows.push(await runRow(row, turns, rowContext));
    compareWithDirect(rows);
    log(rowLine(rows.at(-1) as RowResult));
    claude.requests.length = 0;
  }
  await chat.stop();
  chat = undefined;

  if (config.typicalConcurrency > 0) {
    // A fresh process, so its peak RSS is this part's alone.
    log('typical turns: memory, CPU and cost…');
    chat = await startChatChild({ ...chatOptions, claudeUrl: claude.url, unguarded: false });
    const figures = await measureTypicalTurns(chat, {
      concurrency: config.typicalConcurrency,
      sequential: config.typicalSequential,
      log,
    });
    await chat.stop();
    chat = undefined;
    const measured = {
      oneStreamPeakRssBytes: figures.one.peakRssBytes,
      cpuMsPerTurn: figures.many.cpuMsPerTurn,
      cpuMsBeforeFirstToken: figures.shortTurnCpuMsBeforeFirstToken,
      turnSeconds: figures.one.durationSecondsMedian,
      dynamodb: figures.one.dynamodbPerTurn,
    };
    const memory = recommendMemory(measured);
    const cost = turnCost(memory.recommendedMb, measured.turnSeconds, measured.dynamodb);
    typical = { ...figures, cost, memory };
    log(
      `  one stream: peak RSS ${(figures.one.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${figures.one.cpuMsPerTurn.toFixed(1)} ms CPU/turn; ${figures.many.streams} streams: peak RSS ${(figures.many.peakRssBytes / 2 ** 20).toFixed(0)} MiB; AWS ${cost.awsPercentOfClaude.toFixed(2)}% of Claude at ${memory.recommendedMb} MB`,
    );
  }
} finally {
  await chat?.stop();
  await Promise.all([dynamodb.stop(), sqs.stop(), claude.close(), xrayDaemon.close()]);
}

const results: BenchResults = {
  date: new Date().toISOString(),
  code: codeMeasured(),
  machine: {
    cpus: availableParallelism(),
    node: process.version,
    loadBefore,
    loadAfter: loadavg()[0] as number,
    yardstickMs: { before: yardstickBefore, after: yardstick() },
  },
  config: { turns: config.turns, typicalConcurrency: config.typicalConcurrency, claude: CLAUDE },
  rows,
  ...(typical && { typical }),
  bundles,
};
const report = markdown(results, config);
writeFileSync(resolve(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(resolve(outDir, 'latest.md'), `${report}\n`);
console.log(`\n${report}`);
process.exit(0);

/** The commit measured, marked when the work tree's tracked files differ from it. */
function codeMeasured(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--untracked-files=no') !== '';
  return `${git('rev-parse', '--short', 'HEAD')}${changed ? '+changes' : ''}`;
}

/** Other work on the machine skews every timing: wait (bounded) until it has calmed down. */
async function waitForQuiet(seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until && (loadavg()[0] as number) >= 1) {
    log(`waiting for a quiet machine (load average ${(loadavg()[0] as number).toFixed(2)})…`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
  }
}
