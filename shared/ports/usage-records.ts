import type { TokenUsage } from '../domain/usage.js';

/** One model request as it is accounted for: never its content. */
export interface UsageRecord {
  requestId: string;
  /** ISO 8601, when the request arrived: it is reported in that month (UTC). */
  at: string;
  principal: string;
  keyId?: string;
  /** Which API: `messages` (/v1/messages), `chat` (/v1/chat), or `jobs` (the worker's calls). */
  api: 'messages' | 'chat' | 'jobs';
  model: string;
  usage: TokenUsage;
  costNanoUsd: number;
  latencyMs: number;
  /** The answer's stop reason; absent when it failed before one. */
  stopReason?: string;
  /** Served from the response cache: free, and counted as a hit. */
  cacheHit: boolean;
  /**
   * Made by the recovery of a turn whose function seemed dead. Should the function only have
   * stalled, its own record of the request replaces this one, and counts what it has beyond
   * it, as its late settle does in the ledger.
   */
  recovered?: boolean;
}

/** One row of a usage report: the totals of one principal, key or model. */
export interface UsageTotals extends TokenUsage {
  name: string;
  requests: number;
  cacheHits: number;
  costNanoUsd: number;
}

export interface UsageReport {
  month: string;
  /** Each list is sorted by cost, highest first, and cut to the top N. */
  byPrincipal: UsageTotals[];
  byKey: UsageTotals[];
  byModel: UsageTotals[];
}

/** Per-request usage records and the monthly totals reported to operators. */
export interface UsageRecords {
  record(record: UsageRecord): Promise<void>;
  /** @param month `yyyy-mm` */
  report(month: string, options: { top: number }): Promise<UsageReport>;
}
