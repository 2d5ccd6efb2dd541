import { usageRecordsOf } from './ledger-invariants.js';
import type { SoakLog } from './soak-log.js';
import type { Item } from './table-scan.js';

/**
 * Prints what the soak exercised: stop reasons, jobs' ends, cache use, each ledger's spend, each
 * route's statuses.
 */
export function printSoakSummary(items: Item[], month: string, log: SoakLog): void {
  const records = usageRecordsOf(items, month);
  const statuses = new Map<string, number>();
  for (const a of log.answered)
    statuses.set(`${a.route} ${a.status}`, (statuses.get(`${a.route} ${a.status}`) ?? 0) + 1);
  const tally = (values: string[]) => {
    const t = new Map<string, number>();
    for (const v of values) t.set(v, (t.get(v) ?? 0) + 1);
    return JSON.stringify([...t].sort());
  };
  console.info(
    `stop reasons ${tally(items.filter((i) => i.role === 'assistant').map((i) => String(i.stopReason)))}`,
    `jobs ${tally(items.filter((i) => i.sk === 'JOB').map((i) => `${i.type}:${i.status}`))}`,
    `job errors ${tally(items.filter((i) => i.sk === 'JOB' && i.error).map((i) => `${i.status}: ${(i.error as { message?: string }).message}`))}`,
    `running cancels ${tally(log.runningCancels.map((c) => `${c.batch ? 'batch' : 'standard'}:${items.find((i) => i.sk === 'JOB' && i.jobId === c.jobId)?.status}`))}`,
    `running cancels' ends after the cancel ${JSON.stringify(
      log.runningCancels
        .map((c) => items.find((i) => i.sk === 'JOB' && i.jobId === c.jobId))
        .filter((j) => j?.status === 'cancelled')
        .map(
          (j) =>
            `${Date.parse(String(j!.updatedAt)) - Date.parse(String(j!.cancelRequestedAt))} ms, ${(j!.usage as { outputTokens?: number } | undefined)?.outputTokens} tokens`,
        ),
    )}`,
    `response cache hits ${records.filter((r) => r.cacheHit === true).length}`,
    `cache tokens ${records.reduce((n, r) => n + Number((r.usage as Record<string, number>).cacheReadInputTokens ?? 0), 0)}`,
  );
  const spent = items
    .filter((i) => i.sk === `USAGE#${month}`)
    .map((i) => `${i.pk} ${Number(i.spentNanoUsd ?? 0) / 1e9}`);
  console.info(`spent (USD) ${spent.sort().join(', ')}`);
  console.info(
    [...statuses]
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
  );
}
