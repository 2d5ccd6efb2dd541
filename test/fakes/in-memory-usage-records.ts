import { monthOf } from '../../shared/domain/budget.js';
import type {
  UsageRecord,
  UsageRecords,
  UsageReport,
  UsageTotals,
} from '../../shared/ports/usage-records.js';

/**
 * The UsageRecords port in memory, with the DynamoDB adapter's semantics: a record is
 * the same one when its principal, instant and request id are (recording it again counts
 * nothing, but a turn's own record replaces its recovery's, each figure the larger of the
 * two); a record belongs to the UTC month of its `at`; every report row carries
 * `cacheCreation1hInputTokens`; rows are sorted by cost, then name.
 */
export class InMemoryUsageRecords implements UsageRecords {
  /** Every record counted, in order; a repeated one appears once. */
  readonly recorded: UsageRecord[] = [];
  private readonly seen = new Map<string, UsageRecord>();

  async record(record: UsageRecord): Promise<void> {
    const identity = JSON.stringify([record.principal, Date.parse(record.at), record.requestId]);
    const stored = this.seen.get(identity);
    if (stored && (!stored.recovered || record.recovered)) return;
    const kept = stored ? replacingRecovered(record, stored) : structuredClone(record);
    this.seen.set(identity, kept);
    if (stored) this.recorded.splice(this.recorded.indexOf(stored), 1, kept);
    else this.recorded.push(kept);
  }

  async report(month: string, options: { top: number }): Promise<UsageReport> {
    const ofMonth = this.recorded.filter((record) => monthOf(Date.parse(record.at)) === month);
    const by = (nameOf: (record: UsageRecord) => string | undefined) =>
      topByCost(sumsBy(ofMonth, nameOf), options.top);
    return {
      month,
      byPrincipal: by((record) => record.principal),
      byKey: by((record) => record.keyId),
      byModel: by((record) => record.model),
    };
  }
}

function replacingRecovered(record: UsageRecord, recovered: UsageRecord): UsageRecord {
  const larger = (field: Exclude<keyof UsageRecord['usage'], 'inferenceGeo'>) =>
    Math.max(record.usage[field] ?? 0, recovered.usage[field] ?? 0);
  const hour =
    (record.usage.cacheCreation1hInputTokens ?? recovered.usage.cacheCreation1hInputTokens) !==
    undefined;
  return {
    ...structuredClone(record),
    usage: {
      ...record.usage,
      inputTokens: larger('inputTokens'),
      outputTokens: larger('outputTokens'),
      cacheReadInputTokens: larger('cacheReadInputTokens'),
      cacheCreationInputTokens: larger('cacheCreationInputTokens'),
      ...(hour && { cacheCreation1hInputTokens: larger('cacheCreation1hInputTokens') }),
    },
    costNanoUsd: Math.max(record.costNanoUsd, recovered.costNanoUsd),
  };
}

function sumsBy(
  records: UsageRecord[],
  nameOf: (record: UsageRecord) => string | undefined,
): Map<string, UsageTotals> {
  const sums = new Map<string, UsageTotals>();
  for (const record of records) {
    const name = nameOf(record);
    if (name === undefined) continue;
    const sum = sums.get(name) ?? zeroTotals(name);
    const { usage } = record;
    sum.requests += 1;
    sum.cacheHits += record.cacheHit ? 1 : 0;
    sum.inputTokens += usage.inputTokens;
    sum.outputTokens += usage.outputTokens;
    sum.cacheReadInputTokens += usage.cacheReadInputTokens;
    sum.cacheCreationInputTokens += usage.cacheCreationInputTokens;
    sum.cacheCreation1hInputTokens =
      (sum.cacheCreation1hInputTokens ?? 0) + (usage.cacheCreation1hInputTokens ?? 0);
    sum.costNanoUsd += record.costNanoUsd;
    sums.set(name, sum);
  }
  return sums;
}

function zeroTotals(name: string): UsageTotals {
  return {
    name,
    requests: 0,
    cacheHits: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheCreation1hInputTokens: 0,
    costNanoUsd: 0,
  };
}

function topByCost(sums: Map<string, UsageTotals>, top: number): UsageTotals[] {
  return [...sums.values()]
    .sort(
      (a, b) => b.costNanoUsd - a.costNanoUsd || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .slice(0, Math.max(0, top));
}
