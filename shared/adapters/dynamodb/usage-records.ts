import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { monthOf } from '../../domain/budget.js';
import type { TokenUsage } from '../../domain/usage.js';
import type {
  UsageRecord,
  UsageRecords,
  UsageReport,
  UsageTotals,
} from '../../ports/usage-records.js';
import { failedItem, isConditionFailure } from './errors.js';
import { usageRecordKeys } from './keys.js';

type Dimension = 'principal' | 'key' | 'model';

const DAY_SECONDS = 24 * 3600;

export interface UsageRecordsOptions {
  /**
   * Each month's totals are spread over this many partitions, one picked at random per
   * record. Never lower it while a month is in progress: a report reads shards
   * `0 … shards - 1` only.
   * @default 8
   */
  shards?: number;
  /**
   * Records are deleted by TTL this many days after they were made, and a month's
   * totals this many days after the month ends.
   * @default 400
   */
  recordTtlDays?: number;
}

/**
 * The UsageRecords port on the single table: one item per request in its principal's
 * month partition, and per-month totals by principal, key and model, added to once the
 * record is stored, so a request repeated is counted once.
 */
export class DynamoUsageRecords implements UsageRecords {
  private readonly shards: number;
  private readonly recordTtlSeconds: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: UsageRecordsOptions = {},
  ) {
    this.shards = options.shards ?? 8;
    this.recordTtlSeconds = (options.recordTtlDays ?? 400) * DAY_SECONDS;
  }

  async record(record: UsageRecord): Promise<void> {
    const atMs = Date.parse(record.at);
    const month = monthOf(atMs);
    const writeId = randomBytes(9).toString('base64url');
    let counted = countsOf(record);
    try {
      await this.client.send(new PutCommand(this.putRecord(record, month, atMs, writeId)));
    } catch (error) {
      // Only the record's put has a condition: it failed because this request was
      // recorded already, and counted then; unless the record is this put's own, sent
      // again by the SDK after its answer was lost, whose totals are still to be added,
      // or a recovery's, which this one replaces.
      if (!isConditionFailure(error)) throw error;
      const stored = failedItem(error);
      // A recovery's own put, landed and then replaced by the turn's record (which added
      // only what it has beyond this one's figures): this one's are still to be added.
      if (stored?.writeId !== writeId && stored?.replacedWriteId !== writeId) {
        if (stored?.recovered !== true || record.recovered) return;
        const beyond = await this.replaceRecovered(record, stored, month, atMs, writeId);
        if (!beyond) return;
        counted = beyond;
      }
    }
    const shard = Math.floor(Math.random() * this.shards);
    const totals = (dimension: Dimension, name: string) =>
      this.addTotals(counted, usageRecordKeys.totals(month, shard, dimension, name), {
        dimension,
        name,
        expiresAt: endOfMonthSeconds(month) + this.recordTtlSeconds,
      });
    // Single updates, not a transaction with the put: concurrent requests of one principal
    // add to the same totals item, and transactions on one item conflict. Should the
    // function die between the put and these, the report misses that request's totals.
    await Promise.all(
      [
        totals('principal', record.principal),
        ...(record.keyId === undefined ? [] : [totals('key', record.keyId)]),
        totals('model', record.model),
      ].map(({ Update }) => this.client.send(new UpdateCommand(Update))),
    );
  }

  /**
   * A turn's own record, after its recovery recorded it (its function had only stalled):
   * stored in the recovery's place with each figure the larger of the two, as the ledger
   * counts it (a late settle adds what it has beyond the recovery's), once.
   * @returns what to add to the totals; undefined when another record replaced it first
   */
  private async replaceRecovered(
    record: UsageRecord,
    recovered: Record<string, unknown>,
    month: string,
    atMs: number,
    writeId: string,
  ): Promise<Counts | undefined> {
    const before = recovered.usage as TokenUsage;
    const larger = (field: (typeof TOKEN_COUNTERS)[number]) =>
      Math.max(record.usage[field] ?? 0, before[field] ?? 0);
    const usage: TokenUsage = {
      ...record.usage,
      inputTokens: larger('inputTokens'),
      outputTokens: larger('outputTokens'),
      cacheReadInputTokens: larger('cacheReadInputTokens'),
      cacheCreationInputTokens: larger('cacheCreationInputTokens'),
      ...((record.usage.cacheCreation1hInputTokens ?? before.cacheCreation1hInputTokens) !==
        undefined && { cacheCreation1hInputTokens: larger('cacheCreation1hInputTokens') }),
    };
    const costNanoUsd = Math.max(record.costNanoUsd, Number(recovered.costNanoUsd));
    const put = this.putRecord({ ...record, usage, costNanoUsd }, month, atMs, writeId);
    try {
      await this.client.send(
        new PutCommand({
          ...put,
          Item: { ...put.Item, replacedWriteId: recovered.writeId },
          ConditionExpression: 'writeId = :recovery',
          ExpressionAttributeValues: { ':recovery': recovered.writeId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Replaced already: by another record of the request, counted then; or by this put,
      // sent again by the SDK after its answer was lost, whose totals are still to come.
      if (failedItem(error)?.writeId !== writeId) return undefined;
    }
    return {
      requests: 0,
      cacheHits: 0,
      usage: Object.fromEntries(
        TOKEN_COUNTERS.map((field) => [field, (usage[field] ?? 0) - (before[field] ?? 0)]),
      ) as unknown as TokenUsage,
      costNanoUsd: costNanoUsd - Number(recovered.costNanoUsd),
    };
  }

  async report(month: string, options: { top: number }): Promise<UsageReport> {
    const shardRows = await Promise.all(
      Array.from({ length: this.shards }, (_, shard) => this.readShard(month, shard)),
    );
    const sums: Record<Dimension, Map<string, UsageTotals>> = {
      principal: new Map(),
      key: new Map(),
      model: new Map(),
    };
    for (const item of shardRows.flat()) {
      const dimension = item.dimension;
      if (dimension !== 'principal' && dimension !== 'key' && dimension !== 'model') continue;
      if (typeof item.name !== 'string') continue;
      const sum = sums[dimension].get(item.name) ?? zeroTotals(item.name);
      for (const counter of COUNTERS) {
        const value = item[counter];
        if (typeof value === 'number') sum[counter] = (sum[counter] ?? 0) + value;
      }
      sums[dimension].set(item.name, sum);
    }
    return {
      month,
      byPrincipal: topByCost(sums.principal, options.top),
      byKey: topByCost(sums.key, options.top),
      byModel: topByCost(sums.model, options.top),
    };
  }

  /** The record, unless it is stored already: what makes recording it again count nothing. */
  private putRecord(record: UsageRecord, month: string, atMs: number, writeId: string) {
    return {
      TableName: this.tableName,
      Item: {
        // The time in UTC, so the sort key orders a partition's records in time.
        ...usageRecordKeys.record(
          record.principal,
          month,
          new Date(atMs).toISOString(),
          record.requestId,
        ),
        ...recordAttributes(record),
        writeId,
        expiresAt: Math.floor(atMs / 1000) + this.recordTtlSeconds,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  private addTotals(
    counts: Counts,
    key: { pk: string; sk: string },
    attributes: { dimension: Dimension; name: string; expiresAt: number },
  ) {
    const { usage } = counts;
    return {
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          'SET #name = :name, #dimension = :dimension, expiresAt = :expiresAt ' +
          'ADD requests :requests, cacheHits :hit, inputTokens :in, outputTokens :out, ' +
          'cacheReadInputTokens :cacheRead, cacheCreationInputTokens :cacheWrite, ' +
          'cacheCreation1hInputTokens :cacheWrite1h, costNanoUsd :cost',
        // `name` is a DynamoDB reserved word.
        ExpressionAttributeNames: { '#name': 'name', '#dimension': 'dimension' },
        ExpressionAttributeValues: {
          ':name': attributes.name,
          ':dimension': attributes.dimension,
          ':expiresAt': attributes.expiresAt,
          ':requests': counts.requests,
          ':hit': counts.cacheHits,
          ':in': usage.inputTokens,
          ':out': usage.outputTokens,
          ':cacheRead': usage.cacheReadInputTokens,
          ':cacheWrite': usage.cacheCreationInputTokens,
          ':cacheWrite1h': usage.cacheCreation1hInputTokens ?? 0,
          ':cost': counts.costNanoUsd,
        },
      },
    };
  }

  private async readShard(month: string, shard: number): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': usageRecordKeys.totalsPartition(month, shard) },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

const COUNTERS = [
  'requests',
  'cacheHits',
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheCreationInputTokens',
  'cacheCreation1hInputTokens',
  'costNanoUsd',
] as const satisfies ReadonlyArray<keyof UsageTotals>;

function recordAttributes(record: UsageRecord) {
  const { usage } = record;
  return {
    requestId: record.requestId,
    at: record.at,
    principal: record.principal,
    ...(record.keyId !== undefined && { keyId: record.keyId }),
    api: record.api,
    model: record.model,
    usage: {
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheReadInputTokens: usage.cacheReadInputTokens,
      cacheCreationInputTokens: usage.cacheCreationInputTokens,
      ...(usage.cacheCreation1hInputTokens !== undefined && {
        cacheCreation1hInputTokens: usage.cacheCreation1hInputTokens,
      }),
      // Regional inference costs 1.1×: without it the cost cannot be rebuilt from the tokens.
      ...(usage.inferenceGeo !== undefined && { inferenceGeo: usage.inferenceGeo }),
    },
    costNanoUsd: record.costNanoUsd,
    latencyMs: record.latencyMs,
    ...(record.stopReason !== undefined && { stopReason: record.stopReason }),
    cacheHit: record.cacheHit,
    ...(record.recovered && { recovered: true }),
  };
}

/** What one record adds to the totals. */
interface Counts {
  requests: number;
  cacheHits: number;
  usage: TokenUsage;
  costNanoUsd: number;
}

const countsOf = (record: UsageRecord): Counts => ({
  requests: 1,
  cacheHits: record.cacheHit ? 1 : 0,
  usage: record.usage,
  costNanoUsd: record.costNanoUsd,
});

const TOKEN_COUNTERS = [
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheCreationInputTokens',
  'cacheCreation1hInputTokens',
] as const;

/** Epoch seconds at which `month` (`yyyy-mm`, UTC) ends. */
function endOfMonthSeconds(month: string): number {
  const [year = 0, monthNumber = 0] = month.split('-').map(Number);
  // Date.UTC counts months from 0: month number m is the month after m - 1.
  return Date.UTC(year, monthNumber, 1) / 1000;
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

/** Highest cost first; equal costs by name, so a report reads the same every time. */
function topByCost(sums: Map<string, UsageTotals>, top: number): UsageTotals[] {
  return [...sums.values()]
    .sort(
      (a, b) => b.costNanoUsd - a.costNanoUsd || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .slice(0, Math.max(0, top));
}
