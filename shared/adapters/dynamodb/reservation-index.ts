import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AbandonedCall } from '../../domain/budget.js';
import type { TokenUsage } from '../../domain/usage.js';
import type { Reservation } from '../../ports/usage-ledger.js';
import { conditionHeld, isConditionFailure } from './errors.js';
import { ledgerKeys } from './keys.js';

/** Expired reservations are kept this long after expiry, then DynamoDB TTL drops them. */
const RESERVATION_TTL_GRACE_SECONDS = 24 * 3600;
/** Partitions of the index, by reservation id. */
const INDEX_PARTITIONS = 16;

/** What a call actually cost. */
export type Actual = { usage: TokenUsage; costNanoUsd: number };
/** A reservation as its index entry has it; `settleTo` when a settle failed on some item. */
export type IndexEntry = { reservation: Reservation; settleTo?: Actual };

/**
 * The index of open reservations, spread over partitions by id and sorted by expiry, so
 * that the sweep finds expired ones with a query per partition. It also knows which of
 * this instance's entries are still being written.
 */
export class ReservationIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Entries of this instance's reservations still being written, by reservation id. */
  private readonly writing = new Map<string, Promise<unknown>>();

  /**
   * Writes the entry; with `settleTo`, the figures a sweep settles it to. An entry already
   * naming such figures keeps them when put again without (a reservation's own put, sent
   * again by the SDK, landing after the turn that settles to them ended).
   */
  async put(reservation: Reservation, settleTo?: Actual): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...indexKey(reservation), ...(settleTo && { settleTo }), ...entry(reservation) },
          ...(!settleTo && { ConditionExpression: 'attribute_not_exists(settleTo)' }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Names the call an entry is billed as, should it be abandoned; never fails (nor makes an
   * entry that is gone: its call was settled or released).
   */
  async markAbandonable(reservation: Reservation, call: AbandonedCall): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: indexKey(reservation),
          UpdateExpression: 'SET ifAbandoned = :call',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':call': call },
        }),
      )
      .catch(() => undefined);
  }

  /**
   * A call need not wait for its entry's writes, only its settle or release does (`landed`):
   * one landing after the delete that settles it would outlive it, or name as abandoned a call
   * whose release put its entry back.
   */
  track(id: string, writing: Promise<void>): void {
    const all = Promise.all([this.writing.get(id), writing]).then(() => undefined);
    this.writing.set(id, all);
    void all.finally(() => {
      if (this.writing.get(id) === all) this.writing.delete(id);
    });
  }

  /** Once this instance's entry for `id`, if it writes one, has landed or failed. */
  async landed(id: string): Promise<void> {
    await this.writing.get(id);
  }

  /**
   * @param expected the entry only if its `settleTo` is still as read (none, or of this
   *   cost): figures a turn's stored answer set after the reading stay, for a sweep to settle to
   * @returns whether the entry was there (and as expected)
   */
  async delete(
    reservation: Pick<Reservation, 'id' | 'expiresAtMs'>,
    expected?: { settleTo: Actual | undefined },
  ): Promise<boolean> {
    const settleTo = expected && settleToCondition(expected.settleTo);
    return conditionHeld(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: indexKey(reservation),
          ConditionExpression: `attribute_exists(pk)${settleTo ? ` AND ${settleTo.condition}` : ''}`,
          ...(settleTo?.values && { ExpressionAttributeValues: settleTo.values }),
        }),
      ),
    );
  }

  async has(reservation: Pick<Reservation, 'id' | 'expiresAtMs'>): Promise<boolean> {
    return (await this.entry(reservation)) !== undefined;
  }

  /** The reservation's entry, as it is now. */
  async entry(
    reservation: Pick<Reservation, 'id' | 'expiresAtMs'>,
  ): Promise<IndexEntry | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: indexKey(reservation),
        ConsistentRead: true,
      }),
    );
    return Item && toIndexEntry(Item);
  }

  /** Every entry, or those expired before `expiredBeforeMs`; this instance's own as soon as they are made. */
  async entries(filter: { expiredBeforeMs?: number }): Promise<IndexEntry[]> {
    await Promise.all(this.writing.values());
    const partitions = Array.from({ length: INDEX_PARTITIONS }, (_, partition) => partition);
    const pages = await Promise.all(
      partitions.map(async (partition) => {
        const entries: IndexEntry[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression:
                filter.expiredBeforeMs === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :now',
              ExpressionAttributeValues: {
                ':pk': ledgerKeys.reservationPartition(partition),
                ...(filter.expiredBeforeMs !== undefined && {
                  ':now': ledgerKeys.reservationExpiry(filter.expiredBeforeMs),
                }),
              },
              ExclusiveStartKey: startKey,
            }),
          );
          entries.push(...(page.Items ?? []).map(toIndexEntry));
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        return entries;
      }),
    );
    return pages.flat();
  }
}

/** A stable spread of ids over `count` partitions. */
export function partitionOf(id: string, count: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % count;
}

/**
 * For a transaction that ends what a call was for (a turn's answer stored): makes `settleTo`
 * what the reservation's entry is settled to, should its caller never settle it, in the
 * same write. The entry is made again if it is gone; an entry there keeps its other
 * attributes (the shard a moved hold took).
 */
export function settleToUpdate(tableName: string, reservation: Reservation, settleTo: Actual) {
  const attributes = Object.entries(entry(reservation));
  return {
    Update: {
      TableName: tableName,
      Key: indexKey(reservation),
      UpdateExpression: `SET settleTo = :settleTo, ${attributes
        .map(([name]) => `#${name} = if_not_exists(#${name}, :${name})`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(attributes.map(([name]) => [`#${name}`, name])),
      ExpressionAttributeValues: {
        ':settleTo': settleTo,
        ...Object.fromEntries(attributes.map(([name, value]) => [`:${name}`, value])),
      },
    },
  };
}

/** That an entry's `settleTo` is as read: none, or of the same cost. */
function settleToCondition(settleTo: Actual | undefined) {
  return settleTo === undefined
    ? { condition: 'attribute_not_exists(settleTo)' }
    : { condition: 'settleTo.costNanoUsd = :cost', values: { ':cost': settleTo.costNanoUsd } };
}

/** An entry's attributes but its key and `settleTo`. */
function entry(reservation: Reservation) {
  return {
    userId: reservation.userId,
    month: reservation.month,
    shard: reservation.shard,
    amountNanoUsd: reservation.amountNanoUsd,
    ...(reservation.holder && { holder: reservation.holder }),
    ...(reservation.keyId && { keyId: reservation.keyId }),
    // Only a sweep's reservation, read from its entry, has it: a caller's put drops the mark.
    ...(reservation.ifAbandoned && { ifAbandoned: reservation.ifAbandoned }),
    expiresAt: Math.ceil(reservation.expiresAtMs / 1000) + RESERVATION_TTL_GRACE_SECONDS,
  };
}

function indexKey(reservation: Pick<Reservation, 'id' | 'expiresAtMs'>) {
  return ledgerKeys.reservation(
    partitionOf(reservation.id, INDEX_PARTITIONS),
    reservation.expiresAtMs,
    reservation.id,
  );
}

/** An index entry: its sort key is `<expiresAtMs, padded>#<id>`. */
function toIndexEntry(item: Record<string, unknown>): IndexEntry {
  const [expiry = '0', id = ''] = String(item.sk).split('#');
  return {
    reservation: {
      id,
      userId: String(item.userId),
      month: String(item.month),
      shard: Number(item.shard ?? 0),
      amountNanoUsd: Number(item.amountNanoUsd),
      expiresAtMs: Number(expiry),
      ...(typeof item.holder === 'string' && { holder: item.holder }),
      ...(typeof item.keyId === 'string' && { keyId: item.keyId }),
      ...(isAbandonedCall(item.ifAbandoned) && { ifAbandoned: item.ifAbandoned }),
    },
    ...(item.settleTo !== undefined && { settleTo: item.settleTo as Actual }),
  };
}

function isAbandonedCall(value: unknown): value is AbandonedCall {
  const call = value as Partial<AbandonedCall> | undefined;
  return (
    (call?.api === 'messages' || call?.api === 'jobs') &&
    typeof call.model === 'string' &&
    typeof call.startedAtMs === 'number' &&
    (call.requestId === undefined || typeof call.requestId === 'string')
  );
}
