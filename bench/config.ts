import { DEFAULT_ROWS, parseRow, type RowSpec } from './rows.js';

/**
 * What `npm run bench` runs. Flags win over the environment:
 *   --rows=one-new@64,direct@64   BENCH_ROWS     rows of the turn table (see rows.ts)
 *   --turns=200                   BENCH_TURNS    timed turns per row (at least 25 × concurrency)
 *   --typical=16                  BENCH_TYPICAL  concurrent typical (15 s) turns for memory and
 *                                                cost; 0 skips that part
 *   --no-bundles                  BENCH_BUNDLES=0  skip bundle sizes and cold imports
 *   --wait-quiet=600              BENCH_WAIT_QUIET wait up to that many seconds for the 1-minute
 *                                                load average to fall under 1 before starting
 * To see where the chat function's time goes, BENCH_CHAT_NODE_ARGS passes Node flags to its
 * process, which is then bundled unminified: `BENCH_CHAT_NODE_ARGS='--cpu-prof
 * --cpu-prof-dir=/tmp/prof' npm run bench -- --rows=one-new@1 --typical=0 --no-bundles`.
 */
export interface BenchConfig {
  rows: RowSpec[];
  turns: number;
  typicalConcurrency: number;
  /** Typical turns run one at a time, for one stream's RSS and CPU. */
  typicalSequential: number;
  bundles: boolean;
  /** Seconds to wait for a quiet machine before starting; 0 starts at once. */
  waitQuietSeconds: number;
}

export function benchConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): BenchConfig {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const [, no, name = '', value] = match;
    flags.set(name, no ? '0' : (value ?? '1'));
  }
  for (const name of flags.keys())
    if (!['rows', 'turns', 'typical', 'bundles', 'wait-quiet'].includes(name))
      throw new Error(
        `unknown flag --${name} (known: --rows, --turns, --typical, --no-bundles, --wait-quiet)`,
      );
  const rows = (flags.get('rows') ?? env.BENCH_ROWS)?.split(',').filter(Boolean) ?? DEFAULT_ROWS;
  return {
    rows: rows.map(parseRow),
    turns: positive('turns', flags.get('turns') ?? env.BENCH_TURNS ?? '200'),
    typicalConcurrency: positive('typical', flags.get('typical') ?? env.BENCH_TYPICAL ?? '16', 0),
    typicalSequential: 2,
    bundles: (flags.get('bundles') ?? env.BENCH_BUNDLES ?? '1') !== '0',
    waitQuietSeconds: positive(
      'wait-quiet',
      flags.get('wait-quiet') ?? env.BENCH_WAIT_QUIET ?? '0',
      0,
    ),
  };
}

/** Timed turns per client at least, so that a concurrent row's p99 rests on enough turns. */
export const MIN_TURNS_PER_CLIENT = 25;
/** Turns after a row's timed ones whose DynamoDB capacity is measured (at least one per client). */
export const METERED_TURNS = 25;
/** Turns on each path of the stack before any row is timed (see warmUpStack). */
export const WARM_UP_TURNS_PER_PATH = 300;

export function turnsOf(config: BenchConfig, row: RowSpec): number {
  return Math.max(config.turns, MIN_TURNS_PER_CLIENT * row.concurrency);
}

function positive(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name}=${text}: expected an integer >= ${min}`);
  return value;
}
