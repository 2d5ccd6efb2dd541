import { setTimeout } from 'node:timers/promises';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  globalShardCaps,
  MAX_GLOBAL_BUDGET_SHARDS,
  type ShardReading,
} from '../../domain/budget.js';
import { BudgetExceededError } from '../../domain/errors.js';
import { isConditionFailure, isTransactionConflict } from './errors.js';
import { ledgerKeys } from './keys.js';
import type { Key } from './month-counters.js';

/** Calls settling while the deployment's shards are set may touch them and cancel it. */
const SHARD_CAPS_ATTEMPTS = 6;

/**
 * The caps of the deployment's budget shards for a month: read from all of them, and set
 * together in one transaction, one setting at a time per instance whose calls share it.
 */
export class ShardCaps {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly shards: number,
  ) {}

  /** The settings of shard caps this instance has under way, by month and budget: its calls share them. */
  private readonly settingShardCaps = new Map<string, Promise<void>>();

  /** Sets the month's shard caps under the budget, one setting at a time per instance. */
  startGlobalMonth(month: string, budgetNanoUsd: number): Promise<void> {
    const key = `${month} ${budgetNanoUsd}`;
    let setting = this.settingShardCaps.get(key);
    if (!setting) {
      setting = this.setShardCaps(month, budgetNanoUsd).finally(() =>
        this.settingShardCaps.delete(key),
      );
      this.settingShardCaps.set(key, setting);
    }
    return setting;
  }

  /**
   * Sets every shard's cap under `budgetNanoUsd` (see globalShardCaps) and the budget they
   * follow, in one transaction, from one reading of them all. It applies only if no shard
   * holds more than read (a call admitted meanwhile, under the caps before) and none
   * follows another budget than read (another instance set them first): what every shard
   * holds is then within its cap, and the caps add up to the budget, whoever sets them.
   */
  private async setShardCaps(month: string, budgetNanoUsd: number): Promise<void> {
    for (let attempt = 0; attempt < SHARD_CAPS_ATTEMPTS; attempt++) {
      if (attempt > 0) await setTimeout(10 * 2 ** attempt);
      const shards = await this.readShards(month, { consistent: true });
      if (shards.slice(0, this.shards).every((shard) => shard.budgetBasis === budgetNanoUsd)) {
        return;
      }
      const caps = globalShardCaps(budgetNanoUsd, this.shards, shards);
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: shards.map((shard, i) => ({
              Update: {
                TableName: this.tableName,
                Key: ledgerKeys.globalShard(month, i),
                UpdateExpression:
                  'SET availableNanoUsd = :cap - if_not_exists(heldNanoUsd, :zero), budgetBasis = :basis',
                ConditionExpression: `(attribute_not_exists(heldNanoUsd) OR heldNanoUsd <= :held) AND ${
                  shard.budgetBasis === undefined
                    ? 'attribute_not_exists(budgetBasis)'
                    : 'budgetBasis = :seenBasis'
                }`,
                ExpressionAttributeValues: {
                  ':cap': caps[i],
                  ':zero': 0,
                  ':held': shard.heldNanoUsd,
                  ':basis': budgetNanoUsd,
                  ...(shard.budgetBasis !== undefined && { ':seenBasis': shard.budgetBasis }),
                },
              },
            })),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error) && !isTransactionConflict(error)) throw error;
      }
    }
    // Calls admitted under the caps before kept cancelling it (function versions mid-deploy):
    // a moment later the setting, or the call, may go through.
    throw new BudgetExceededError(
      "the deployment's monthly budget is being changed: try again in a moment, it may fit then",
      { heldByCallsInFlight: true },
    );
  }

  /** Every shard of the month, those a larger budget used earlier included, as now. */
  async readShards(
    month: string,
    { consistent }: { consistent: boolean },
  ): Promise<Array<ShardReading & { budgetBasis?: number }>> {
    const shards = Array.from({ length: MAX_GLOBAL_BUDGET_SHARDS }, () => ({
      heldNanoUsd: 0,
      spentNanoUsd: 0,
    })) as Array<ShardReading & { budgetBasis?: number }>;
    let keys = Array.from({ length: MAX_GLOBAL_BUDGET_SHARDS }, (_, i) =>
      ledgerKeys.globalShard(month, i),
    );
    // A throttled batch answers part of it: the rest is asked again, as AWS advises, with back-off.
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 5) throw new Error(`the deployment's budget shards of ${month} stayed unread`);
      if (attempt > 0) await setTimeout(10 * 2 ** attempt);
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: keys,
              ProjectionExpression: 'pk, heldNanoUsd, spentNanoUsd, budgetBasis',
              ConsistentRead: consistent,
            },
          },
        }),
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        shards[shardOfKey(String(item.pk))] = {
          heldNanoUsd: Number(item.heldNanoUsd ?? 0),
          spentNanoUsd: Number(item.spentNanoUsd ?? 0),
          ...(item.budgetBasis !== undefined && { budgetBasis: Number(item.budgetBasis) }),
        };
      }
      keys = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Key[];
    }
    return shards;
  }
}

/** A shard's number, from its key. */
function shardOfKey(pk: string): number {
  return Number(pk.slice(pk.lastIndexOf('#') + 1));
}
