import { DEFAULT_ROWS, parseRow, type RowSpec } from './rows.js';

/**
 * What `npm run bench` runs. Flags win over the environment:
 *   --rows=one-new@64,direct@64   BENCH_ROWS     rows of the turn table (see rows.ts)
 *   --turns=200                   BENCH_TURNS    timed turns per row (at least 4 × concurrency)
 *   --typical=16                  BENCH_TYPICAL  concurrent typical (15 s) turns for memory and
 *                                                cost; 0 skips that part
 *   --no-bundles                  BENCH_BUNDLES=0  skip bundle sizes and cold imports
 */
export interface BenchConfig {
  rows: RowSpec[];
  turns: number;
  typicalConcurrency: number;
  /** Typical turns run one at a time, for one stream's RSS and CPU. */
  typicalSequential: number;
  bundles: boolean;
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
    if (!['rows', 'turns', 'typical', 'bundles'].includes(name))
      throw new Error(`unknown flag --${name} (known: --rows, --turns, --typical, --no-bundles)`);
  const rows = (flags.get('rows') ?? env.BENCH_ROWS)?.split(',').filter(Boolean) ?? DEFAULT_ROWS;
  return {
    rows: rows.map(parseRow),
    turns: positive('turns', flags.get('turns') ?? env.BENCH_TURNS ?? '200'),
    typicalConcurrency: positive('typical', flags.get('typical') ?? env.BENCH_TYPICAL ?? '16', 0),
    typicalSequential: 2,
    bundles: (flags.get('bundles') ?? env.BENCH_BUNDLES ?? '1') !== '0',
  };
}

function positive(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name}=${text}: expected an integer >= ${min}`);
  return value;
}
