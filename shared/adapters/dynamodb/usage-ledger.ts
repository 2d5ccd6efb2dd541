import { randomUUID } from 'node:crypto';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { globalBudgetShards, monthOf } from '../../domain/budget.js';
import { BudgetExceededError } from '../../domain/errors.js';
import { nanoToUsd, usdToNano } from '../../domain/pricing/model-price.js';
import type { TokenUsage } from '../../domain/usage.js';
import type { MonthUsage, Reservation, UsageLedger } from '../../ports/usage-ledger.js';
import { failedConditions, isConditionFailure } from './errors.js';
import { apiKeyKeys, ledgerKeys } from './keys.js';
import { transactWrite } from './transact.js';

/** Expired reservations are kept this long after expiry, then DynamoDB TTL drops them. */
const RESERVATION_TTL_GRACE_SECONDS = 24 * 3600;

/**
 * The UsageLedger on the single table. Every budget check is a condition on a
 * counter of spent + reserved money (`heldNanoUsd`), in the same transaction that
 * raises it — so concurrent reservations can never overshoot.
 */
export class DynamoUsageLedger implements UsageLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly globalBudgetUsd: number,
  ) {}

  private get shards(): number {
    return globalBudgetShards(this.globalBudgetUsd);
  }

  async reserve(request: Parameters<UsageLedger['reserve']>[0]): Promise<Reservation> {
    try {
      return await this.tryReserve(request);
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      // Holds of crashed calls may be what fills the budget: give them back, try once more.
      if ((await this.reclaimExpired(request.nowMs)) === 0) throw error;
      return this.tryReserve(request);
    }
  }

  private async tryReserve(request: Parameters<UsageLedger['reserve']>[0]): Promise<Reservation> {
    const { userId, amountNanoUsd, nowMs, apiKey } = request;
    const month = monthOf(nowMs);
    const shardBudget = Math.floor(request.globalBudgetNanoUsd / this.shards);
    if (amountNanoUsd > request.userBudgetNanoUsd)
      throw userBudgetExceeded(request.userBudgetNanoUsd);
    if (apiKey?.budgetNanoUsd !== undefined && amountNanoUsd > apiKey.budgetNanoUsd)
      throw keyBudgetExceeded(apiKey.budgetNanoUsd);
    if (amountNanoUsd > shardBudget) throw globalBudgetExceeded();

    const id = randomUUID();
    const firstShard = Math.floor(Math.random() * this.shards);
    for (let i = 0; i < this.shards; i++) {
      const shard = (firstShard + i) % this.shards;
      const hold = (key: Record<string, string>, limit: number | undefined) => ({
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD heldNanoUsd :amount',
          ...(limit === undefined
            ? { ExpressionAttributeValues: { ':amount': amountNanoUsd } }
            : {
                // No arithmetic is allowed in conditions: the bound is precomputed.
                ConditionExpression: 'attribute_not_exists(heldNanoUsd) OR heldNanoUsd <= :max',
                ExpressionAttributeValues: {
                  ':amount': amountNanoUsd,
                  ':max': limit - amountNanoUsd,
                },
              }),
        },
      });
      try {
        await transactWrite(this.client, {
          TransactItems: [
            hold(ledgerKeys.userMonth(userId, month), request.userBudgetNanoUsd),
            hold(ledgerKeys.globalShard(month, shard), shardBudget),
            ...(apiKey ? [hold(apiKeyKeys.month(apiKey.id, month), apiKey.budgetNanoUsd)] : []),
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...ledgerKeys.reservation(shard, request.expiresAtMs, id),
                  userId,
                  month,
                  amountNanoUsd,
                  ...(request.holder && { holder: request.holder }),
                  ...(apiKey && { keyId: apiKey.id }),
                  expiresAt: Math.ceil(request.expiresAtMs / 1000) + RESERVATION_TTL_GRACE_SECONDS,
                },
              },
            },
          ],
        });
        return {
          id,
          userId,
          month,
          shard,
          amountNanoUsd,
          expiresAtMs: request.expiresAtMs,
          ...(request.holder && { holder: request.holder }),
          ...(apiKey && { keyId: apiKey.id }),
        };
      } catch (error) {
        const failed = failedConditions(error);
        if (failed.includes(0)) throw userBudgetExceeded(request.userBudgetNanoUsd);
        if (failed.includes(2)) throw keyBudgetExceeded(apiKey?.budgetNanoUsd ?? 0);
        if (!failed.includes(1)) throw error;
        // This shard's quota is full; another may still have room.
      }
    }
    throw globalBudgetExceeded();
  }

  async settle(
    reservation: Reservation,
    actual: { usage: TokenUsage; costNanoUsd: number },
  ): Promise<void> {
    const reservationKey = ledgerKeys.reservation(
      reservation.shard,
      reservation.expiresAtMs,
      reservation.id,
    );
    const record = (key: Record<string, string>, heldDelta: number) => ({
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          'ADD heldNanoUsd :held, spentNanoUsd :cost, requests :one, inputTokens :in, ' +
          'outputTokens :out, cacheReadInputTokens :cacheRead, cacheCreationInputTokens :cacheWrite',
        ExpressionAttributeValues: {
          ':held': heldDelta,
          ':cost': actual.costNanoUsd,
          ':one': 1,
          ':in': actual.usage.inputTokens,
          ':out': actual.usage.outputTokens,
          ':cacheRead': actual.usage.cacheReadInputTokens,
          ':cacheWrite': actual.usage.cacheCreationInputTokens,
        },
      },
    });
    const items = (heldDelta: number) =>
      this.countersOf(reservation).map((key) => record(key, heldDelta));
    try {
      await transactWrite(this.client, {
        TransactItems: [
          this.deleteReservation(reservationKey),
          ...items(actual.costNanoUsd - reservation.amountNanoUsd),
        ],
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The reservation expired and was reclaimed meanwhile: its hold is already
      // gone, so the spend is added on its own.
      await transactWrite(this.client, { TransactItems: items(actual.costNanoUsd) });
    }
  }

  async release(reservation: Reservation): Promise<void> {
    await this.releaseHold(
      ledgerKeys.reservation(reservation.shard, reservation.expiresAtMs, reservation.id),
      reservation,
    );
  }

  async reclaimExpired(nowMs: number): Promise<number> {
    let reclaimed = 0;
    for (let shard = 0; shard < this.shards; shard++) {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk < :now',
          ExpressionAttributeValues: {
            ':pk': ledgerKeys.reservationPartition(shard),
            ':now': ledgerKeys.reservationExpiry(nowMs),
          },
        }),
      );
      for (const item of Items) {
        const released = await this.releaseHold(
          { pk: String(item.pk), sk: String(item.sk) },
          {
            userId: String(item.userId),
            month: String(item.month),
            shard,
            amountNanoUsd: Number(item.amountNanoUsd),
            ...(typeof item.keyId === 'string' && { keyId: item.keyId }),
          },
        );
        if (released) reclaimed++;
      }
    }
    return reclaimed;
  }

  async listReservations(): Promise<Reservation[]> {
    const reservations: Reservation[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': ledgerKeys.reservationPartition(shard) },
            ExclusiveStartKey: startKey,
          }),
        );
        reservations.push(...(page.Items ?? []).map((item) => toReservation(item, shard)));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return reservations;
  }

  /** Deletes a reservation and returns its hold. @returns false when it was already gone */
  private async releaseHold(
    reservationKey: { pk: string; sk: string },
    hold: Pick<Reservation, 'userId' | 'month' | 'shard' | 'amountNanoUsd' | 'keyId'>,
  ): Promise<boolean> {
    const release = (key: Record<string, string>) => ({
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'ADD heldNanoUsd :release',
        ExpressionAttributeValues: { ':release': -hold.amountNanoUsd },
      },
    });
    try {
      await transactWrite(this.client, {
        TransactItems: [
          this.deleteReservation(reservationKey),
          ...this.countersOf(hold).map(release),
        ],
      });
      return true;
    } catch (error) {
      // Settled or reclaimed by someone else in the meantime.
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The month counters a reservation holds money on: its user's, its shard's, its key's. */
  private countersOf(hold: Pick<Reservation, 'userId' | 'month' | 'shard' | 'keyId'>) {
    return [
      ledgerKeys.userMonth(hold.userId, hold.month),
      ledgerKeys.globalShard(hold.month, hold.shard),
      ...(hold.keyId ? [apiKeyKeys.month(hold.keyId, hold.month)] : []),
    ];
  }

  /** Deletes a reservation only if it is still there: settling or reclaiming it is done once. */
  private deleteReservation(key: { pk: string; sk: string }) {
    return {
      Delete: { TableName: this.tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' },
    };
  }

  async userMonth(userId: string, month: string): Promise<MonthUsage> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: ledgerKeys.userMonth(userId, month) }),
    );
    return toMonthUsage(month, Item);
  }

  async keyMonth(keyId: string, month: string): Promise<MonthUsage> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: apiKeyKeys.month(keyId, month) }),
    );
    return toMonthUsage(month, Item);
  }

  async globalMonthSpendNanoUsd(month: string): Promise<number> {
    const keys = Array.from({ length: this.shards }, (_, shard) =>
      ledgerKeys.globalShard(month, shard),
    );
    const { Responses } = await this.client.send(
      new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'spentNanoUsd' } },
      }),
    );
    return (Responses?.[this.tableName] ?? []).reduce(
      (sum, item) => sum + Number(item.spentNanoUsd ?? 0),
      0,
    );
  }

  async userBudgetOverrideUsd(userId: string): Promise<number | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: ledgerKeys.userBudget(userId) }),
    );
    return Item?.monthlyBudgetNanoUsd === undefined
      ? undefined
      : nanoToUsd(Number(Item.monthlyBudgetNanoUsd));
  }

  async setUserBudgetOverride(userId: string, budgetUsd: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...ledgerKeys.userBudget(userId), monthlyBudgetNanoUsd: usdToNano(budgetUsd) },
      }),
    );
  }
}

/** A reservation item: its sort key is `<expiresAtMs, padded>#<id>`. */
function toReservation(item: Record<string, unknown>, shard: number): Reservation {
  const [expiry = '0', id = ''] = String(item.sk).split('#');
  return {
    id,
    userId: String(item.userId),
    month: String(item.month),
    shard,
    amountNanoUsd: Number(item.amountNanoUsd),
    expiresAtMs: Number(expiry),
    ...(typeof item.holder === 'string' && { holder: item.holder }),
    ...(typeof item.keyId === 'string' && { keyId: item.keyId }),
  };
}

function toMonthUsage(month: string, item: Record<string, unknown> | undefined): MonthUsage {
  const count = (name: string) => Number(item?.[name] ?? 0);
  return {
    month,
    requests: count('requests'),
    inputTokens: count('inputTokens'),
    outputTokens: count('outputTokens'),
    cacheReadInputTokens: count('cacheReadInputTokens'),
    cacheCreationInputTokens: count('cacheCreationInputTokens'),
    spentNanoUsd: count('spentNanoUsd'),
    heldNanoUsd: count('heldNanoUsd'),
  };
}

function userBudgetExceeded(budgetNanoUsd: number) {
  return new BudgetExceededError(
    `this request does not fit your monthly budget of $${nanoToUsd(budgetNanoUsd)}; lower maxTokens or wait for the next month`,
  );
}

function keyBudgetExceeded(budgetNanoUsd: number) {
  return new BudgetExceededError(
    `this request does not fit the API key's monthly budget of $${nanoToUsd(budgetNanoUsd)}; lower max_tokens or wait for the next month`,
  );
}

function globalBudgetExceeded() {
  return new BudgetExceededError('the deployment has reached its monthly budget');
}
