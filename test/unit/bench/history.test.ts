import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { historyHeading, historyRow } from '../../../bench/history.js';
import type { BenchResults } from '../../../bench/report.js';
import type { RowResult } from '../../../bench/rows.js';

function row(id: string, added: [number, number], failed = 0): RowResult {
  return {
    id,
    path: id,
    turns: 200,
    ok: 200 - failed,
    addedTtftP50: added[0],
    addedTtftP99: added[1],
    wallSeconds: 10,
  } as RowResult;
}

const RESULTS = {
  date: '2026-12-03T08:15:42.123Z',
  code: 'b36c1b2',
  machine: { yardstickMs: { before: 39.44, after: 61.66 } },
  rows: [
    row('one-new@1', [11.74, 30.71]),
    row('messages@1', [10.9, 17.5]),
    row('one-new@16', [69.5, 151.6]),
    row('one-new@64', [299.4, 472.2], 3),
  ],
  bundles: [
    { name: 'chat', coldImportMs: 46.54 },
    { name: 'worker', coldImportMs: 158.8 },
  ],
  typical: {
    shortTurnCpuMs: 35.2,
    shortTurnCpuMsBeforeFirstToken: 13.6,
    cost: { awsPercentOfClaude: 0.9234 },
  },
} as unknown as BenchResults;

describe('bench history', () => {
  it("gives a run's line: its headline rows, cold import, CPU, cost and yardstick, – for what it did not run", () => {
    expect(historyRow(RESULTS)).toBe(
      '| 2026-12-03 08:15 | b36c1b2 | +11.7 / +30.7 | – | +10.9 / +17.5 | – | +69.5 / +151.6 | – | +299.4 / +472.2 (3) | 46.5 | 35.2 (13.6) | 0.92% | 39.4 / 61.7 |',
    );
  });

  it('has as many cells in a line as the heading names', () => {
    const cells = (line: string) => line.split('|').length;

    expect(cells(historyRow(RESULTS))).toBe(cells(historyHeading().split('\n')[0] as string));
  });

  it("is bench/history.md's table, under the same heading", () => {
    expect(readFileSync('bench/history.md', 'utf8')).toContain(`\n${historyHeading()}\n| 20`);
  });
});
