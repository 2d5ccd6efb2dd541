import type { BenchResults } from './report.js';

/** The rows a run is remembered by, in `bench/history.md`: each by its id (see rows.ts). */
const HEADLINE_ROWS = [
  { heading: 'new conversation, 1', id: 'one-new@1' },
  { heading: 'no checks, 1', id: 'unguarded-one-new@1' },
  { heading: '/v1/messages, 1', id: 'messages@1' },
  { heading: 'existing, 1', id: 'one-existing@1' },
  { heading: 'one principal, 16', id: 'one-new@16' },
  { heading: '16 principals, 16', id: 'many-new@16' },
  { heading: 'one principal, 64 (errors)', id: 'one-new@64', errors: true },
] as const;

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;

/** The table's heading and alignment lines. */
export function historyHeading(): string {
  const headings = [
    'run (UTC)',
    'code',
    ...HEADLINE_ROWS.map((row) => row.heading),
    'chat entry cold (ms)',
    'short turn CPU (ms)',
    'AWS % of Claude',
    'yardstick before / after (ms)',
  ];
  return [
    `| ${headings.join(' | ')} |`,
    `| --- | --- |${' ---: |'.repeat(headings.length - 2)}`,
  ].join('\n');
}

/**
 * The run's line of `bench/history.md`: added time to the first token over direct (p50 / p99,
 * ms) for the headline rows, the chat entry's cold import, a short turn's CPU (before the first
 * token in brackets), AWS's share of a typical Sonnet turn's cost and the machine's yardstick.
 * "–" for what it did not run.
 */
export function historyRow(results: BenchResults): string {
  const row = (id: string, errors = false) => {
    const found = results.rows.find((candidate) => candidate.id === id);
    if (found?.addedTtftP50 === undefined || found.addedTtftP99 === undefined) return '–';
    const added = `${signed(found.addedTtftP50)} / ${signed(found.addedTtftP99)}`;
    return errors ? `${added} (${found.turns - found.ok})` : added;
  };
  const chat = results.bundles.find((bundle) => bundle.name === 'chat');
  const typical = results.typical;
  const cells = [
    results.date.slice(0, 16).replace('T', ' '),
    results.code,
    ...HEADLINE_ROWS.map((headline) => row(headline.id, 'errors' in headline)),
    chat ? chat.coldImportMs.toFixed(1) : '–',
    typical
      ? `${typical.shortTurnCpuMs.toFixed(1)} (${typical.shortTurnCpuMsBeforeFirstToken.toFixed(1)})`
      : '–',
    typical ? `${typical.cost.awsPercentOfClaude.toFixed(2)}%` : '–',
    `${results.machine.yardstickMs.before.toFixed(1)} / ${results.machine.yardstickMs.after.toFixed(1)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}
