import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Settlement } from '../../domain/settlement.js';
import type { TokenUsage } from '../../domain/usage.js';
import type { Reservation } from '../../ports/usage-ledger.js';
import { failedItem, isConditionFailure } from './errors.js';
import { ledgerKeys } from './keys.js';
import type { Counter, Hold } from './month-counters.js';
import type { Actual } from './reservation-index.js';
import { transactWrite } from './transact.js';

/** How long the record of who took a hold outlives the reservation's expiry. */
const SETTLEMENT_TTL_GRACE_SECONDS = 24 * 3600;
/**
 * A settlement record as read, with the items whose hold its party took: each such take
 * puts its item's mark beside the record in the same transaction, so a hold found gone on
 * an item with no mark went with a settle of the caller's figures.
 */
export type Taken = { settlement?: Settlement; took: ReadonlySet<Counter['kind']> };

/**
 * The settlement record of a reservation whose holds someone other than its caller takes (a
 * recovery or a reclaim), and the marks beside it: on which items its party took the hold,
 * and which late spends were made.
 */
export class SettlementRecords {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records who takes the hold from its caller, before taking it; the first record stays.
   * @returns the record that stands: this one, or who took the hold first
   */
  async record(reservation: Hold, settlement: Settlement): Promise<Settlement> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...ledgerKeys.settlement(reservation.id),
            ...settlement,
            expiresAt: settlementExpiresAt(reservation),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return settlement;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return toSettlement(failedItem(error)) ?? settlement;
    }
  }

  /** The settlement record, and on which items its party took the hold. */
  async taken(reservation: Reservation): Promise<Taken> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': ledgerKeys.settlement(reservation.id).pk },
        ConsistentRead: true,
      }),
    );
    const kinds: Array<Counter['kind']> = ['user', 'global', 'key'];
    const marks = new Set(Items.map((item) => String(item.sk)));
    return {
      settlement: toSettlement(Items.find((item) => item.sk === ledgerKeys.settlement('').sk)),
      took: new Set(kinds.filter((kind) => marks.has(`took#${kind}`))),
    };
  }

  /** Sends `update` of a month item in one transaction with a mark beside the settlement record. */
  async markWith(
    reservation: Pick<Hold, 'id' | 'expiresAtMs'>,
    counter: Counter,
    mark: 'took' | 'spent',
    update: object,
  ) {
    // Takes and late spends on one month item at once (a sweep's, a recovery's) cancel each
    // other: DynamoDB applied nothing, and the SDK does not try again.
    await transactWrite(this.client, {
      TransactItems: [
        { Update: update as never },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...ledgerKeys.settlementMark(reservation.id, `${mark}#${counter.kind}`),
              expiresAt: settlementExpiresAt(reservation),
            },
            ...(mark === 'spent' && { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        },
      ],
    });
  }
}

/** When a settlement record and its marks go. */
function settlementExpiresAt(reservation: Pick<Hold, 'expiresAtMs'>): number {
  // A caller settles before its deadline, which is the reservation's expiry.
  return Math.ceil(reservation.expiresAtMs / 1000) + SETTLEMENT_TTL_GRACE_SECONDS;
}

/** A settlement record as stored, if it is one. */
function toSettlement(item: Record<string, unknown> | undefined): Settlement | undefined {
  if (item?.by === 'recovery') {
    return {
      by: 'recovery',
      usage: item.usage as TokenUsage,
      costNanoUsd: Number(item.costNanoUsd),
    };
  }
  return item?.by === 'reclaim' ? { by: 'reclaim' } : undefined;
}

/** What a recovery recorded, to settle the holds it has not reached to. */
export function recoveredFigures(recovery: Extract<Settlement, { by: 'recovery' }>): Actual {
  return { usage: recovery.usage, costNanoUsd: recovery.costNanoUsd };
}
