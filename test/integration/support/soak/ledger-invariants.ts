import { waitsForHeldBudget } from './quiesce.js';
import type { SoakLog } from './soak-log.js';
import type { Item } from './table-scan.js';

/** The month's usage records (one per model call), of every user. */
export const usageRecordsOf = (items: Item[], month: string) =>
  items.filter((i) => /^USER#.+#REQS#/.test(String(i.pk)) && String(i.pk).endsWith(month));

/** What the deployment's budget shards say was spent this month. */
export const deploymentSpentOf = (items: Item[], month: string) =>
  items
    .filter((i) => String(i.pk).startsWith(`GLOBAL#USAGE#${month}#`))
    .reduce((s, i) => s + Number(i.spentNanoUsd ?? 0), 0);

/** Nothing held, nothing in flight: no holds, reservations or turns left, held = spent. */
export function nothingHeld(items: Item[]): string[] {
  const report: string[] = [];
  for (const item of items) {
    const holds = Object.keys(item).filter((k) => k.startsWith('hold_'));
    if (holds.length > 0) report.push(`holds left on ${item.pk}/${item.sk}: ${holds.join(',')}`);
    if (String(item.pk).startsWith('RESV#'))
      report.push(`reservation entry left: ${JSON.stringify(item)}`);
    if (item.sk === 'META' && item.activeTurnId) report.push(`turn in flight on ${item.pk}`);
    if (String(item.sk).startsWith('USAGE#') && item.heldNanoUsd !== item.spentNanoUsd) {
      report.push(`${item.pk}/${item.sk} held ${item.heldNanoUsd} ≠ spent ${item.spentNanoUsd}`);
    }
  }
  return report;
}

/** The ledger of each principal, key and the deployment equals the sum of its usage records. */
export function ledgerMatchesRecords(items: Item[], month: string): string[] {
  const report: string[] = [];
  const records = usageRecordsOf(items, month);
  const sumBy = (pick: (r: Item) => string | undefined) => {
    const sums = new Map<string, number>();
    for (const r of records) {
      const k = pick(r);
      if (k !== undefined) sums.set(k, (sums.get(k) ?? 0) + Number(r.costNanoUsd));
    }
    return sums;
  };
  const byPrincipal = sumBy((r) => String(r.principal));
  const byKey = sumBy((r) => (r.keyId === undefined ? undefined : String(r.keyId)));
  for (const item of items.filter((i) => i.sk === `USAGE#${month}`)) {
    const pk = String(item.pk);
    const spent = Number(item.spentNanoUsd ?? 0);
    const expected = pk.startsWith('USER#')
      ? (byPrincipal.get(pk.slice(5)) ?? 0)
      : pk.startsWith('APIKEY#')
        ? (byKey.get(pk.slice(7)) ?? 0)
        : undefined;
    if (expected !== undefined && expected !== spent) {
      report.push(`${pk} ledger spent ${spent} ≠ records ${expected}`);
    }
  }
  const monthItems = new Set(
    items.filter((i) => i.sk === `USAGE#${month}`).map((i) => String(i.pk)),
  );
  for (const [principal, cost] of byPrincipal) {
    if (cost > 0 && !monthItems.has(`USER#${principal}`))
      report.push(`${principal}: records, no ledger`);
  }
  for (const [keyId, cost] of byKey) {
    if (cost > 0 && !monthItems.has(`APIKEY#${keyId}`))
      report.push(`key ${keyId}: records, no ledger`);
  }
  const deploymentSpent = deploymentSpentOf(items, month);
  const recordsTotal = records.reduce((s, r) => s + Number(r.costNanoUsd), 0);
  if (deploymentSpent !== recordsTotal) {
    report.push(`deployment shards spent ${deploymentSpent} ≠ records ${recordsTotal}`);
  }
  return report;
}

/** The CostUsd metric the functions published adds up to what the deployment spent. */
export function costUsdMatches(
  items: Item[],
  month: string,
  published: Array<Record<string, unknown>>,
): string[] {
  const records = usageRecordsOf(items, month);
  const deploymentSpent = deploymentSpentOf(items, month);
  // A function that made several calls in one invocation publishes them as one list.
  const costsOf = (line: Record<string, unknown>) => [line.CostUsd ?? []].flat().map(Number);
  const costUsd = published.reduce((s, l) => s + costsOf(l).reduce((a, b) => a + b, 0), 0);
  if (Math.abs(costUsd - deploymentSpent / 1e9) <= 1e-9) return [];
  const byApi = new Map<string, number>();
  for (const r of records)
    byApi.set(String(r.api), (byApi.get(String(r.api)) ?? 0) + Number(r.costNanoUsd));
  const byService = new Map<string, number>();
  for (const l of published) {
    const k = String(l.service);
    byService.set(k, (byService.get(k) ?? 0) + costsOf(l).reduce((a, b) => a + b, 0));
  }
  return [
    `CostUsd ${costUsd} ≠ deployment spent ${deploymentSpent / 1e9} (records by api ${JSON.stringify([...byApi])}, metric by service ${JSON.stringify([...byService])})`,
  ];
}

/**
 * Every job a client was told was queued is kept, one whose cancel was accepted ended cancelled
 * (unless asked for again, which runs it again), and every job ended (or waits for its budget,
 * which calls in flight held), its cost the sum of its calls' records: each billed once.
 */
export function jobsEndedBilledOnce(items: Item[], month: string, log: SoakLog): string[] {
  const report: string[] = [];
  const records = usageRecordsOf(items, month);
  const jobs = new Map(items.filter((i) => i.sk === 'JOB').map((j) => [String(j.jobId), j]));
  const timesAsked = new Map<string, number>();
  for (const { jobId } of log.jobIds) timesAsked.set(jobId, (timesAsked.get(jobId) ?? 0) + 1);
  for (const { userId, jobId } of log.jobIds) {
    if (!jobs.has(jobId)) report.push(`job ${jobId} of ${userId}, queued (202), is not kept`);
  }
  for (const jobId of log.cancelledJobIds) {
    const status = jobs.get(jobId)?.status;
    if (timesAsked.get(jobId) === 1 && status !== 'cancelled') {
      report.push(`job ${jobId}, its cancel accepted, ended ${status}`);
    }
  }
  for (const j of items.filter((i) => i.sk === 'JOB')) {
    if (
      !['succeeded', 'failed', 'cancelled'].includes(String(j.status)) &&
      !waitsForHeldBudget(j)
    ) {
      report.push(
        `job ${j.jobId} (${j.type}) ${j.status} after ${j.attempts} attempts: ${JSON.stringify(j.error)}`,
      );
    }
    const billed = records
      .filter((r) => String(r.requestId).startsWith(`${j.jobId}:`))
      .reduce((s, r) => s + Number(r.costNanoUsd), 0);
    if (billed !== Number(j.costNanoUsd ?? 0)) {
      report.push(
        `job ${j.jobId} (${j.type}, ${j.status}) cost ${j.costNanoUsd} ≠ records ${billed}`,
      );
    }
  }
  return report;
}
