import { type BundleFigures, bundleSection } from './bundles.js';
import {
  type BenchConfig,
  METERED_TURNS,
  MIN_TURNS_PER_CLIENT,
  WARM_UP_TURNS_PER_PATH,
} from './config.js';
import {
  MAX_CPU_BUSY,
  MB_PER_VCPU,
  type MemoryRecommendation,
  RSS_HEADROOM,
  type TurnCost,
  TYPICAL_SONNET_TURN,
} from './cost.js';
import { historyRow } from './history.js';
import { DEPLOYED_CHAT_MEMORY_MB, lambdaHeapFlags } from './lambda-heap.js';
import type { RowResult } from './rows.js';
import type { TypicalTurnFigures } from './typical-turn.js';

export interface BenchResults {
  date: string;
  /** The commit measured (`+changes` when the work tree's tracked files differed). */
  code: string;
  machine: MachineState;
  config: { turns: number; typicalConcurrency: number; claude: Record<string, number> };
  rows: RowResult[];
  typical?: TypicalTurnFigures & { cost: TurnCost; memory: MemoryRecommendation };
  bundles: BundleFigures[];
}

export interface MachineState {
  cpus: number;
  node: string;
  /** 1-minute load average before and after the run. */
  loadBefore: number;
  loadAfter?: number;
  /** A fixed piece of JavaScript work, timed before and after the run (`yardstick.ts`): the machine's speed. */
  yardstickMs: { before: number; after: number };
}

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(1);
const signed = (value: number | undefined) =>
  value === undefined ? '–' : `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const usd = (value: number) => `$${value.toPrecision(3)}`;
const num = (value: number | undefined, digits = 1) =>
  value === undefined ? '–' : value.toFixed(digits);
const percent = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(0)}%`);

export function errorsOf(row: RowResult): string {
  const failed = row.turns - row.ok;
  if (!failed) return '0';
  return `${failed} (${Object.entries(row.errors)
    .map(([kind, n]) => `${n}× ${kind}`)
    .join(', ')})`;
}

/** One progress line per row. */
export function rowLine(row: RowResult): string {
  const added =
    row.addedTtftP50 === undefined
      ? ''
      : ` added ${signed(row.addedTtftP50)}/${signed(row.addedTtftP99)} ms`;
  const ddb = row.dynamodbPerTurn
    ? ` ddb ${num(row.dynamodbPerTurn.calls)} calls ${num(row.dynamodbPerTurn.wcu)} WCU ${num(row.dynamodbPerTurn.rcu)} RCU/turn`
    : '';
  return `  ${row.id}: first token p50 ${ms(row.ttftP50)} p99 ${ms(row.ttftP99)} ms${added}, errors ${errorsOf(row)}${ddb}, machine ${percent(row.machineBusyPercent)} busy (${row.wallSeconds.toFixed(1)} s)`;
}

export function markdown(results: BenchResults, config: BenchConfig): string {
  const { machine, rows, typical } = results;
  const lines = [
    `Run ${results.date} on ${machine.cpus} cores, Node ${machine.node}; 1-minute load average ${machine.loadBefore.toFixed(2)} before, ${num(machine.loadAfter, 2)} after; yardstick ${machine.yardstickMs.before.toFixed(1)} ms before, ${machine.yardstickMs.after.toFixed(1)} after (a fixed piece of JavaScript work, bench/yardstick.ts: the same code takes longer on a slower machine). Local Claude: ${results.config.claude.timeToFirstTokenMs} ms to first token, ${results.config.claude.tokensPerSecond} tokens/s, ~30-token answers. The chat function runs alone in its own Node process (bundled as deployed, its heap sized as Lambda sizes it for ${DEPLOYED_CHAT_MEMORY_MB} MB: ${lambdaHeapFlags(DEPLOYED_CHAT_MEMORY_MB).join(' ')}; tracing on, as deployed by default, every turn sampled: the worst case, Lambda samples the first request each second and 5% of the rest; a UDP socket stands in for the X-Ray daemon and counts the documents sent); the bench client and the local Claude in another; DynamoDB Local in a JVM, with its optimizing compiler on (the tests run it on the quick compiler only, for memory).`,
    '',
    `Chat turns: ${config.turns} timed turns per row (at least ${MIN_TURNS_PER_CLIENT} × concurrency), after ${WARM_UP_TURNS_PER_PATH} turns on each path of the stack (DynamoDB Local's JVM warms up over thousands of requests; DynamoDB on AWS is never cold) and each row's own warm-up. "added" is the time to the first text token over calling the local Claude directly at the same concurrency. Errors are turns the client saw fail; DynamoDB figures are per turn, capacity as AWS bills it (transactions corrected, see bench/dynamodb-capacity.ts) and measured over ${METERED_TURNS} or more further turns, since asking DynamoDB Local for it slows every call and the function never asks; "retried" counts the transaction conflicts and failed conditions inside the function over the row. On AWS, DynamoDB and the clients run elsewhere; here they share the chat process's ${machine.cpus} cores: "DynamoDB Local CPU" is its JVM's CPU time per turn, and "machine busy" how busy all cores were over the timed turns (a row near 100% measures queueing for a core). Milliseconds.`,
    '',
    '| row | concurrency | turns | errors | added first token p50 | added p99 | first token p50 | first token p99 | TTFB p50 | total p50 | chat CPU ms/turn | X-Ray docs/turn | DynamoDB Local CPU ms/turn | machine busy | DynamoDB calls/turn | WCU/turn | RCU/turn | retried |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const d = r.dynamodbPerTurn;
      return `| ${r.path} | ${r.concurrency} | ${r.turns} | ${errorsOf(r)} | ${signed(r.addedTtftP50)} | ${signed(r.addedTtftP99)} | ${ms(r.ttftP50)} | ${ms(r.ttftP99)} | ${ms(r.ttfbP50)} | ${ms(r.totalP50)} | ${num(r.chatCpuMsPerTurn)} | ${num(r.xrayDocumentsPerTurn)} | ${num(r.dynamodbLocalCpuMsPerTurn)} | ${percent(r.machineBusyPercent)} | ${num(d?.calls)} | ${num(d?.wcu)} | ${num(d?.rcu)} | ${d ? d.transactionConflicts + d.conditionFailures : '–'} |`;
    }),
  ];
  if (typical) lines.push('', ...typicalSection(typical));
  if (results.bundles.length) lines.push('', ...bundleSection(results.bundles));
  lines.push('', "This run's line for bench/history.md:", '', historyRow(results));
  return lines.join('\n');
}

function typicalSection(typical: NonNullable<BenchResults['typical']>): string[] {
  const { one, many, cost, memory } = typical;
  const perStreamBytes = (many.peakRssBytes - one.peakRssBytes) / Math.max(1, many.streams - 1);
  const ddb = one.dynamodbPerTurn;
  const ops = Object.entries(ddb.byOperation)
    .map(([op, n]) => `${op} ${n.toFixed(1)}`)
    .join(', ');
  return [
    `Typical turn (${TYPICAL_SONNET_TURN.outputTokens} tokens streamed over ~${TYPICAL_SONNET_TURN.streamSeconds} s in a conversation with ~1,500 tokens of history), measured on the chat process alone:`,
    '',
    `| | one stream at a time | ${many.streams} streams at once |`,
    '| --- | ---: | ---: |',
    `| turns ok | ${one.ok}/${one.turns} | ${many.ok}/${many.turns} |`,
    `| turn duration (s, median) | ${one.durationSecondsMedian.toFixed(1)} | ${many.durationSecondsMedian.toFixed(1)} |`,
    `| chat process peak RSS (MiB) | ${mib(one.peakRssBytes)} | ${mib(many.peakRssBytes)} |`,
    `| chat CPU per turn (ms) | ${one.cpuMsPerTurn.toFixed(1)} | ${many.cpuMsPerTurn.toFixed(1)} |`,
    `| DynamoDB calls / WCU / RCU per turn | ${ddb.calls.toFixed(1)} / ${ddb.wcu.toFixed(1)} / ${ddb.rcu.toFixed(1)} | ${many.dynamodbPerTurn.calls.toFixed(1)} / ${many.dynamodbPerTurn.wcu.toFixed(1)} / ${many.dynamodbPerTurn.rcu.toFixed(1)} |`,
    '',
    `RSS idle after start-up ${mib(typical.idleRssBytes)} MiB, after warm-up ${mib(typical.warmRssBytes)} MiB (both after a full GC); each further concurrent stream adds ~${mib(perStreamBytes)} MiB. A short turn costs ${typical.shortTurnCpuMs.toFixed(1)} ms of CPU, ${typical.shortTurnCpuMsBeforeFirstToken.toFixed(1)} ms of it before the first token (median, one at a time). DynamoDB Local reported ${ddb.reportedWcu.toFixed(1)} WCU / ${ddb.reportedRcu.toFixed(1)} RCU per typical turn before the transaction correction. Calls per typical turn: ${ops}.`,
    '',
    `Cost of a typical Sonnet turn (${TYPICAL_SONNET_TURN.inputTokens} in / ${TYPICAL_SONNET_TURN.outputTokens} out): Claude ${usd(cost.claudeUsd)}; AWS at ${cost.memoryMb} MB ${usd(cost.awsUsd)} = ${cost.awsPercentOfClaude.toFixed(2)}% of it (Lambda ${cost.gbSeconds.toFixed(2)} GB-s + request ${usd(cost.lambdaUsd)}, DynamoDB ${usd(cost.dynamodbUsd)}).`,
    '',
    `| chat memory (MB) | vCPU share | fits one stream (RSS × ${RSS_HEADROOM}, CPU ≤ ${MAX_CPU_BUSY * 100}% busy) | CPU busy while streaming | CPU before first token (ms) | Lambda per turn | DynamoDB per turn | AWS per turn | % of Claude |`,
    '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...memory.options.map(
      (o) =>
        `| ${o.memoryMb}${o.memoryMb === memory.recommendedMb ? ' (recommended)' : ''} | ${o.vcpu.toFixed(2)} | ${o.fits ? 'yes' : 'no'} | ${(o.cpuBusy * 100).toFixed(0)}% | ${o.cpuMsBeforeFirstToken.toFixed(1)} | ${usd(o.lambdaUsd)} | ${usd(o.dynamodbUsd)} | ${usd(o.awsUsd)} | ${o.awsPercentOfClaude.toFixed(2)}% |`,
    ),
    '',
    `Memory: one stream peaks at ${mib(one.peakRssBytes)} MiB and a stream uses ${many.cpuMsPerTurn.toFixed(0)} ms of CPU per ${many.durationSecondsMedian.toFixed(1)} s, so ≥ ${memory.minimumMb} MB holds it (${RSS_HEADROOM}× the RSS, CPU at most ${MAX_CPU_BUSY * 100}% busy); the 1% target allows at most ${memory.maximumMbForTarget} MB; recommended ${memory.recommendedMb} MB. CPU share is memory / ${MB_PER_VCPU} MB of a vCPU, so work before the first token stretches by that factor (measured on this machine's cores, not Graviton's).`,
  ];
}
