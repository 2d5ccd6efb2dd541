import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AbandonedCall,
  abandonedCost,
  globalBudgetShards,
  holdableAmount,
  monthOf,
  nextMonthOf,
} from '../../domain/budget.js';
import { keyBudgetExceeded } from '../../domain/budget-refusals.js';
import { BudgetExceededError } from '../../domain/errors.js';
import { newReservationId } from '../../domain/ids.js';
import { nanoToUsd, usdToNano } from '../../domain/pricing/model-price.js';
import {
  type CountedSpend,
  countedSpend,
  isNoSpend,
  type LateSpend,
  lateSpend,
  NOTHING_COUNTED,
  SettleIncompleteError,
  type Settler,
} from '../../domain/settlement.js';
import type {
  AbandonedReservation,
  MonthUsage,
  Reservation,
  UsageLedger,
} from '../../ports/usage-ledger.js';
import { batchGetAll } from './batch-get.js';
import { conditionHeld, failedItem, isConditionFailure, isRefusedAsInvalid } from './errors.js';
import {
  callOverShardBudget,
  globalRefusal,
  HoldRefused,
  tooManyHolds,
  userRefusal,
} from './hold-refusals.js';
import { apiKeyKeys, ledgerKeys } from './keys.js';
import {
  type Counter,
  expiredHolds,
  followsBudget,
  globalCounter,
  type Hold,
  heldCounters,
  holdUpdate,
  type Key,
  keepsAvailable,
  keyCounter,
  OWN_BUDGET,
  toMonthUsage,
  userCounter,
} from './month-counters.js';
import { type Actual, partitionOf, ReservationIndex } from './reservation-index.js';
import { recoveredFigures, SettlementRecords, type Taken } from './settlement-records.js';
import { ShardCaps } from './shard-caps.js';

type ReserveRequest = Parameters<UsageLedger['reserve']>[0];
type OnCounted = (counted: CountedSpend) => void;
/** A user's budget and what it comes from: their own, or the default of that amount. */
type UserBudget = { nanoUsd: number; basis: number | typeof OWN_BUDGET };
/** Two versions of the function mid-deploy may each set a month to their own budget. */
const BUDGET_BASIS_ATTEMPTS = 3;

/**
 * The UsageLedger on the single table, without transactions on the hot path: a
 * reservation is one conditional update per month item it holds money on (the user's,
 * one global shard, the API key's) and a put in the reservation index, all sent at once;
 * the call waits for the holds, its settle or release for the index entry too.
 * Each update checks its own bound and records the hold on the item itself
 * (`hold_<id>`), so concurrent calls of one principal are serialized by DynamoDB per
 * item instead of conflicting as transactions do, and settling or releasing a hold
 * happens exactly once per item. A user's budget lives on their month item as
 * `availableNanoUsd`, set when the month starts (from their own budget, read then) and
 * reset when an operator changes it or the default it came from changes, so no
 * reservation has to read it. The deployment's shard caps (ShardCaps) and the records of
 * who took a hold (SettlementRecords) are kept by collaborators, as the index is.
 */
export class DynamoUsageLedger implements UsageLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly globalBudgetUsd: number,
  ) {
    this.index = new ReservationIndex(client, tableName);
    this.shardCaps = new ShardCaps(client, tableName, this.shards);
    this.settlements = new SettlementRecords(client, tableName);
  }

  private readonly index: ReservationIndex;
  private readonly shardCaps: ShardCaps;
  private readonly settlements: SettlementRecords;

  private get shards(): number {
    return globalBudgetShards(this.globalBudgetUsd);
  }

  plan(
    request: Omit<ReserveRequest, 'userDefaultBudgetNanoUsd' | 'globalBudgetNanoUsd'>,
  ): Reservation {
    const id = request.id ?? newReservationId(request.expiresAtMs);
    return {
      id,
      userId: request.userId,
      month: monthOf(request.nowMs),
      shard: partitionOf(id, this.shards),
      amountNanoUsd: holdableAmount(request.amountNanoUsd),
      expiresAtMs: request.expiresAtMs,
      ...(request.holder && { holder: request.holder }),
      ...(request.apiKey && { keyId: request.apiKey.id }),
    };
  }

  async reserve(request: ReserveRequest): Promise<Reservation> {
    const planned = this.plan(request);
    try {
      return await this.tryReserve(planned, request);
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      // Holds of crashed calls may be what fills the budget: give them back, try once more.
      // Those with figures to settle to are left to the sweep, which publishes what it counts.
      const reclaimed =
        (await this.reclaim(request.nowMs, { settlingFigures: false })) ||
        (await this.reclaimUnindexed(heldCounters(planned, true), request.nowMs));
      if (reclaimed === 0) throw error;
      return this.tryReserve(planned, request);
    }
  }

  /**
   * @param options.inTurn each hold after the one before it was granted (the user's month,
   *   the key's, then the shard): callers racing for two budgets at once cannot each be
   *   refused by a budget the others hold, as calls sent all at once can
   */
  private async tryReserve(
    planned: Reservation,
    request: ReserveRequest,
    options: { inTurn?: boolean } = {},
  ): Promise<Reservation> {
    const globalBudget = request.globalBudgetNanoUsd;
    // No shard's room is ever more than an even share of the budget.
    const shardBudget = Math.floor(globalBudget / this.shards);
    const keyBudget = request.apiKey?.budgetNanoUsd;
    if (keyBudget !== undefined && planned.amountNanoUsd > keyBudget) {
      throw keyBudgetExceeded({ budgetNanoUsd: keyBudget });
    }
    if (planned.amountNanoUsd > shardBudget) throw callOverShardBudget(planned, shardBudget);
    const counters: Counter[] = [
      userCounter(planned),
      globalCounter(planned, globalBudget),
      ...(planned.keyId ? [keyCounter(planned, keyBudget)] : []),
    ];
    // Should it fail, the call goes on and its caller settles it all the same; should the
    // caller also die, a reservation its holds would refuse takes them back (reclaimUnindexed).
    const indexing = this.index.put(planned).catch(() => undefined);
    const holds = [
      () => this.holdUserMonth(planned, request.userDefaultBudgetNanoUsd),
      () => this.holdGlobalShard(planned, globalBudget),
      ...counters.slice(2).map((counter) => () => this.hold(planned, counter)),
    ];
    const held = options.inTurn
      ? await holdInTurn(holds, [0, 2, 1])
      : await Promise.allSettled(holds.map((hold) => hold()));
    const refusals = held.flatMap((outcome) =>
      outcome?.status === 'rejected' ? [outcome.reason as unknown] : [],
    );
    if (refusals.length === 0) {
      this.index.track(planned.id, indexing);
      return planned;
    }
    // The entry goes with the holds below, or is moved with the hold.
    await indexing;
    const globalOnly = refusals.length === 1 && isBudgetRefusal(held[1]);
    // A hold that failed but by its bound may have landed (its answer lost, the SDK's
    // retries failing): given back too, or it would stay where no settle or sweep looks.
    const releaseHeld = () =>
      this.releaseHeld(
        planned,
        counters.filter((_, i) => held[i] !== undefined && !isBudgetRefusal(held[i])),
      );
    if (globalOnly && this.shards > 1) {
      // Only the deployment's shard is full: another may still have room (rare, near the end of a month).
      const moved = await this.holdAnotherShard(planned, globalBudget).catch(
        async (error: unknown) => {
          await releaseHeld();
          throw error;
        },
      );
      if (moved) return moved;
    }
    await releaseHeld();
    const racedForTwoBudgets =
      !options.inTurn &&
      held.some((outcome) => outcome?.status === 'fulfilled') &&
      refusals.every((reason) => (reason as BudgetExceededError).heldByCallsInFlight);
    // Granted by one budget and refused by another (its user's, its key's, the deployment's)
    // for what calls racing with it hold: sent all at once, each of those may be refused by the
    // budget this one holds, and none get in. Held in turn, those granted the first go on.
    if (racedForTwoBudgets) return this.tryReserve(planned, request, { inTurn: true });
    // Only when every budget in the way waits on holds alone may the call fit later.
    throw (
      refusals.find((reason) => !(reason instanceof BudgetExceededError)) ??
      refusals.find((reason) => !(reason as BudgetExceededError).heldByCallsInFlight) ??
      refusals[0]
    );
  }

  /**
   * Holds on one of the deployment's shards, whose caps are set when the month starts,
   * and again when the budget they follow is not the one this reservation names.
   */
  private async holdGlobalShard(reservation: Reservation, budgetNanoUsd: number) {
    const counter = globalCounter(reservation, budgetNanoUsd);
    for (let attempt = 1; ; attempt++) {
      let refused: HoldRefused;
      try {
        return await this.hold(reservation, counter);
      } catch (error) {
        if (!(error instanceof HoldRefused)) throw error;
        refused = error;
      }
      const item = refused.item ?? {};
      const current = item.budgetBasis !== undefined && Number(item.budgetBasis) === budgetNanoUsd;
      // Calls of two versions mid-deploy, each setting the month to its own budget.
      if (current || attempt === BUDGET_BASIS_ATTEMPTS) throw globalRefusal(item, reservation);
      await this.shardCaps.startGlobalMonth(reservation.month, budgetNanoUsd);
    }
  }

  /** The reservation on the first other shard with room, its index entry moved with it. */
  private async holdAnotherShard(
    planned: Reservation,
    budgetNanoUsd: number,
  ): Promise<Reservation | undefined> {
    for (let i = 1; i < this.shards; i++) {
      const reservation = { ...planned, shard: (planned.shard + i) % this.shards };
      try {
        await this.holdGlobalShard(reservation, budgetNanoUsd);
      } catch (error) {
        if (error instanceof BudgetExceededError) continue;
        throw error;
      }
      // As the first put: the call goes on, and its caller settles the hold where it moved.
      // Thrown, it would leave this hold where no settle or sweep looks for it.
      await this.index.put(reservation).catch(() => undefined);
      return reservation;
    }
    return undefined;
  }

  /**
   * Holds on the user's month, which learns its budget when the month starts, and again
   * when the default it follows is not the one this reservation names (the setting was
   * changed, or the month started before months recorded what they follow).
   */
  private async holdUserMonth(reservation: Reservation, defaultBudgetNanoUsd: number) {
    const counter = userCounter(reservation, defaultBudgetNanoUsd);
    for (let attempt = 1; ; attempt++) {
      let refused: HoldRefused;
      try {
        return await this.hold(reservation, counter);
      } catch (error) {
        if (!(error instanceof HoldRefused)) throw error;
        refused = error;
      }
      // The month as the refused update found it; none yet when the user's first call starts it.
      const item = refused.item ?? {};
      const current =
        item.availableNanoUsd !== undefined && followsBudget(item, defaultBudgetNanoUsd);
      if (current && Number(item.availableNanoUsd) < reservation.amountNanoUsd) {
        throw userRefusal(item, reservation);
      }
      // Calls of two versions mid-deploy, each setting the month to its own default.
      if (attempt === BUDGET_BASIS_ATTEMPTS) throw userRefusal(item, reservation);
      if (!current) {
        await this.startUserMonth(
          counter.key,
          await this.userBudget(reservation.userId, defaultBudgetNanoUsd),
          { replacing: item.budgetBasis },
        );
      }
    }
  }

  /** The user's own budget when an operator set one, else the default. */
  private async userBudget(userId: string, defaultNanoUsd: number): Promise<UserBudget> {
    const own = await this.storedBudgetNanoUsd(userId);
    return own === undefined
      ? { nanoUsd: defaultNanoUsd, basis: defaultNanoUsd }
      : { nanoUsd: own, basis: OWN_BUDGET };
  }

  /**
   * Sets what a user's month has left, `budget − held`, at once, and what budget it follows.
   * @param options.replacing only if the month follows this (`undefined`: nothing recorded
   *   yet), so that a reading of the budget overtaken by an operator's change is not applied
   */
  private async startUserMonth(
    key: Key,
    budget: UserBudget,
    options: { replacing?: unknown } | 'always',
  ) {
    const condition =
      options === 'always'
        ? {}
        : options.replacing === undefined
          ? { ConditionExpression: 'attribute_not_exists(budgetBasis)' }
          : {
              ConditionExpression: 'budgetBasis = :replacing',
              ExpressionAttributeValues: { ':replacing': options.replacing },
            };
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET availableNanoUsd = :budget - if_not_exists(heldNanoUsd, :zero), budgetBasis = :basis',
          ...condition,
          ExpressionAttributeValues: {
            ':budget': budget.nanoUsd,
            ':basis': budget.basis,
            ':zero': 0,
            ...condition.ExpressionAttributeValues,
          },
        }),
      )
      .catch((error: unknown) => {
        // Another call or an operator set it first.
        if (!isConditionFailure(error)) throw error;
      });
  }

  /**
   * One conditional update: the hold recorded on the item and counted, if the bound allows.
   * The SDK retries a request whose answer was lost (a timeout, a reset connection, a 500),
   * though it may have landed: a hold already on the item is that request's, counted once.
   * @throws BudgetExceededError when it does not
   */
  private async hold(reservation: Reservation, counter: Counter): Promise<void> {
    const amount = reservation.amountNanoUsd;
    const hold = ledgerKeys.holdAttribute(reservation.id);
    const input = holdUpdate(counter, amount);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: counter.key,
          ExpressionAttributeNames: { '#hold': hold },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...input,
        }),
      );
    } catch (error) {
      // Its expressions are fixed: only the item's size can make it invalid.
      if (isRefusedAsInvalid(error)) throw tooManyHolds(counter.kind, error);
      if (!isConditionFailure(error)) throw error;
      const item = failedItem(error);
      if (item?.[hold] !== undefined) return;
      if (counter.kind !== 'key') throw new HoldRefused(item);
      const spentNanoUsd = Number(item?.spentNanoUsd ?? 0);
      const unspent = (counter.limit ?? Number.POSITIVE_INFINITY) - spentNanoUsd;
      throw keyBudgetExceeded({
        budgetNanoUsd: counter.limit ?? 0,
        spentNanoUsd,
        heldByCallsInFlight: unspent >= amount,
      });
    }
  }

  async settle(
    recorded: Reservation,
    actual: Actual,
    options: { recovered?: boolean } = {},
  ): Promise<CountedSpend> {
    await this.index.landed(recorded.id);
    const reservation = options.recovered ? await this.whereHeld(recorded) : recorded;
    // A recovery whose record stands takes the holds for it, and says so on each item.
    const forRecord =
      options.recovered &&
      (await this.settlements.record(reservation, { by: 'recovery', ...actual })).by === 'recovery';
    let taken: Promise<Taken> | undefined;
    const settleOn = async (counter: Counter): Promise<CountedSpend> => {
      if (await this.settleHold(reservation, counter, actual, { forRecord })) return actual;
      // Taken meanwhile (recovered, reclaimed, or by this settle's own attempt whose answer
      // was lost): only what nobody recorded is added.
      taken ??= this.settlements.taken(reservation);
      return this.spendLate(
        reservation,
        counter,
        actual,
        await taken,
        options.recovered ? 'recovery' : 'caller',
      );
    };
    const outcomes = await Promise.allSettled([
      // First, the deployment's month: what the spend metrics, summed over the deployment, count.
      settleOn(globalCounter(reservation)),
      ...heldCounters(reservation, false).map(settleOn),
      this.index.delete(reservation),
    ]);
    const [global] = outcomes;
    const counted =
      global.status === 'fulfilled' ? (global.value as CountedSpend) : NOTHING_COUNTED;
    await this.keepUnsettled(reservation, outcomes, actual).catch((error: unknown) => {
      throw new SettleIncompleteError(counted, error);
    });
    return counted;
  }

  /**
   * The reservation with the shard its index entry names: a recovery settles the one its
   * turn recorded, which names the planned shard should the write recording a move to
   * another have failed (start-turn.ts). Without an entry, the caller has settled or
   * released it (or a reclaim has taken it, which the settlement record tells).
   */
  private async whereHeld(reservation: Reservation): Promise<Reservation> {
    const entry = await this.index.entry(reservation);
    return entry ? { ...reservation, shard: entry.reservation.shard } : reservation;
  }

  /**
   * Records the spend and gives back the rest of the hold on one item; `forRecord` for the
   * recovery the settlement record names, which it marks as having taken this item's hold.
   * @returns false when the hold was gone
   */
  private async settleHold(
    reservation: Hold,
    counter: Counter,
    actual: Actual,
    { forRecord = false }: { forRecord?: boolean } = {},
  ) {
    return conditionHeld(
      this.recordSpend(
        reservation,
        counter,
        { requests: 1, ...actual },
        { withHold: true, ...(forRecord && { mark: 'took' as const }) },
      ),
    );
  }

  /**
   * A hold found gone on one item: adds what nobody recorded (see lateSpend), once.
   * @returns what this settle counts there (see countedSpend) Only
   * where the settlement record says its party took the hold does anyone else count it:
   * elsewhere the hold went with a settle of the caller, or this settle's own attempt whose
   * answer was lost.
   */
  private async spendLate(
    reservation: Hold,
    counter: Counter,
    actual: Actual,
    taken: Taken,
    settler: Settler,
  ): Promise<CountedSpend> {
    const by = taken.took.has(counter.kind) ? taken.settlement : undefined;
    const spend = lateSpend(actual, by, settler === 'sweep' ? 'caller' : settler);
    if (!isNoSpend(spend)) {
      try {
        await this.recordSpend(reservation, counter, spend, { withHold: false, mark: 'spent' });
      } catch (error) {
        // Made already: by this settle before its answer was lost, or by one that failed elsewhere.
        if (!isConditionFailure(error)) throw error;
        // For the sweep, by the settle whose failure elsewhere left the entry to it (or by an
        // earlier sweep): that one counted it, and published it.
        if (settler === 'sweep') return NOTHING_COUNTED;
      }
    }
    return countedSpend(actual, by, settler);
  }

  /**
   * Adds the spend to one item, and with `withHold` removes the hold it replaces. With
   * `mark`, in one transaction with that mark beside the settlement record: `took` (its
   * party took this item's hold) or `spent` (this item's late spend is made; once only).
   */
  private async recordSpend(
    reservation: Hold,
    counter: Counter,
    spend: LateSpend,
    { withHold, mark }: { withHold: boolean; mark?: 'took' | 'spent' },
  ) {
    const amount = reservation.amountNanoUsd;
    const cost = spend.costNanoUsd;
    const available = keepsAvailable(counter) ? 'availableNanoUsd :available, ' : '';
    const recorded =
      `${available}heldNanoUsd :held, spentNanoUsd :cost, requests :requests, ` +
      'inputTokens :in, outputTokens :out, cacheReadInputTokens :cacheRead, ' +
      'cacheCreationInputTokens :cacheWrite';
    const update = {
      TableName: this.tableName,
      Key: counter.key,
      UpdateExpression: withHold ? `REMOVE #hold ADD ${recorded}` : `ADD ${recorded}`,
      ...(withHold && {
        ConditionExpression: 'attribute_exists(#hold)',
        ExpressionAttributeNames: { '#hold': ledgerKeys.holdAttribute(reservation.id) },
      }),
      ExpressionAttributeValues: {
        ':cost': cost,
        ':requests': spend.requests,
        ':in': spend.usage.inputTokens,
        ':out': spend.usage.outputTokens,
        ':cacheRead': spend.usage.cacheReadInputTokens,
        ':cacheWrite': spend.usage.cacheCreationInputTokens,
        ':held': withHold ? cost - amount : cost,
        ...(keepsAvailable(counter) && { ':available': withHold ? amount - cost : -cost }),
      },
    };
    // A late spend has no hold whose removal marks it done: its mark beside the settlement
    // record does, and the transaction's token (the SDK sets one per call) has DynamoDB
    // apply it once however often the SDK sends it.
    if (!mark) await this.client.send(new UpdateCommand(update));
    else await this.settlements.markWith(reservation, counter, mark, update);
  }

  /**
   * The index entry is deleted together with the holds: should a hold's write fail (after
   * the SDK's retries), the entry is put back, with the figures to settle it to, so that
   * the sweep finishes the job once the reservation expires instead of the hold staying
   * until the month ends. Then the failure is thrown.
   */
  private async keepUnsettled(
    reservation: Reservation,
    outcomes: ReadonlyArray<PromiseSettledResult<unknown>>,
    settleTo?: Actual,
  ): Promise<void> {
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (!failed) return;
    const holdFailed = outcomes.slice(0, -1).some((outcome) => outcome.status === 'rejected');
    if (holdFailed) await this.index.put(reservation, settleTo).catch(() => undefined);
    throw failed.reason;
  }

  billIfAbandoned(reservation: Reservation, call: AbandonedCall): Promise<void> {
    // After the entry's put, which it would miss (its condition) or a late retry would replace.
    const marking = this.index
      .landed(reservation.id)
      .then(() => this.index.markAbandonable(reservation, call));
    this.index.track(reservation.id, marking);
    return marking;
  }

  async release(reservation: Reservation): Promise<void> {
    await this.index.landed(reservation.id);
    await this.releaseHeld(reservation, heldCounters(reservation, true));
  }

  /**
   * Gives the holds back on `counters` and drops the index entry; `forRecord` for a
   * reclaim whose record stands, which marks each item it takes the hold on.
   * @returns whether a hold was still there
   */
  private async releaseHeld(
    reservation: Reservation,
    counters: Counter[],
    { forRecord = false }: { forRecord?: boolean } = {},
  ): Promise<boolean> {
    const outcomes = await Promise.allSettled([
      ...counters.map((counter) => this.releaseOn(reservation, counter, { forRecord })),
      // A turn's answer stored meanwhile set figures on the entry: it stays, to be billed.
      this.index.delete(reservation, { settleTo: undefined }),
    ]);
    await this.keepUnsettled(reservation, outcomes);
    return outcomes.some((outcome) => outcome.status === 'fulfilled' && outcome.value);
  }

  /**
   * Settles what a reservation still holds to `settleTo`, as a recovery whose record stands
   * (`forRecord`) takes the holds: figures its entry keeps (`entryFigures`: a turn's stored
   * answer, or a settle that failed on some item), or a recovery's. Where the hold is gone,
   * what is owed is added as a settle adds it.
   * @returns whether a hold was still there, and what it counted in the deployment's month
   *   (told to `onCounted` before a failure is thrown, as a settle's is)
   */
  private async finishSettle(
    reservation: Reservation,
    settleTo: Actual,
    {
      forRecord,
      entryFigures,
      onCounted,
      onTaken,
    }: {
      forRecord: boolean;
      entryFigures: Actual | undefined;
      onCounted?: OnCounted;
      /** Told once this settle took a hold, before a failure is thrown. */
      onTaken?: () => void;
    },
  ): Promise<boolean> {
    let taken: Promise<Taken> | undefined;
    const settleOn = async (counter: Counter) => {
      if (await this.settleHold(reservation, counter, settleTo, { forRecord })) {
        return { held: true, counted: settleTo };
      }
      taken ??= this.settlements.taken(reservation);
      // The caller's figures or a recovery's: beyond a recovery that took the hold, the same adds nothing.
      const counted = await this.spendLate(reservation, counter, settleTo, await taken, 'sweep');
      return { held: false, counted };
    };
    const [settled, deleted] = await Promise.all([
      Promise.allSettled([
        settleOn(globalCounter(reservation)),
        ...heldCounters(reservation, false).map(settleOn),
      ]),
      // Only the entry as read: one whose figures changed meanwhile is settled to those later.
      Promise.allSettled([this.index.delete(reservation, { settleTo: entryFigures })]),
    ]);
    const [global] = settled;
    onCounted?.(global?.status === 'fulfilled' ? global.value.counted : NOTHING_COUNTED);
    const held = settled.some((outcome) => outcome.status === 'fulfilled' && outcome.value.held);
    if (held) onTaken?.();
    await this.keepUnsettled(reservation, [...settled, ...deleted], settleTo);
    return held;
  }

  private async releaseOn(
    reservation: Hold,
    counter: Counter,
    { forRecord = false }: { forRecord?: boolean } = {},
  ): Promise<boolean> {
    const amount = reservation.amountNanoUsd;
    const update = {
      TableName: this.tableName,
      Key: counter.key,
      UpdateExpression: keepsAvailable(counter)
        ? 'REMOVE #hold ADD availableNanoUsd :amount, heldNanoUsd :release'
        : 'REMOVE #hold ADD heldNanoUsd :release',
      ConditionExpression: 'attribute_exists(#hold)',
      ExpressionAttributeNames: { '#hold': ledgerKeys.holdAttribute(reservation.id) },
      ExpressionAttributeValues: {
        ':release': -amount,
        ...(keepsAvailable(counter) && { ':amount': amount }),
      },
    };
    // False: settled, released or reclaimed by someone else in the meantime.
    return conditionHeld(
      forRecord
        ? this.settlements.markWith(reservation, counter, 'took', update)
        : this.client.send(new UpdateCommand(update)),
    );
  }

  async reclaimExpired(
    nowMs: number,
    options: {
      sparing?: ReadonlySet<string>;
      onCounted?: OnCounted;
      onAbandoned?: (call: AbandonedReservation) => void;
    } = {},
  ): Promise<number> {
    return this.reclaim(nowMs, { ...options, settlingFigures: true });
  }

  /**
   * @param options.settlingFigures whether to settle the reservations that have figures to
   *   settle to (their entry's, a recovery's, or all an abandoned call holds), which the sweep
   *   does and publishes; a reserve short of room only gives back holds that bill nothing
   */
  private async reclaim(
    nowMs: number,
    {
      sparing,
      onCounted,
      onAbandoned,
      settlingFigures,
    }: {
      sparing?: ReadonlySet<string>;
      onCounted?: OnCounted;
      onAbandoned?: (call: AbandonedReservation) => void;
      settlingFigures: boolean;
    },
  ): Promise<number> {
    const expired = (await this.index.entries({ expiredBeforeMs: nowMs })).filter(
      ({ reservation, settleTo }) =>
        settleTo !== undefined || reservation.ifAbandoned
          ? settlingFigures
          : !(reservation.holder && sparing?.has(reservation.holder)),
    );
    const reclaimed = await Promise.all(
      expired.map(async ({ reservation, settleTo }) => {
        // Marked, its entry has no other figures than an earlier sweep's, all it holds, which
        // that sweep put back with the mark should one of its writes have failed.
        const abandoned = abandonedCall(reservation);
        const owed = settleTo ?? (abandoned && abandonedCost(abandoned));
        // A settle that never came, to the figures its entry keeps (or all an abandoned call
        // holds): recorded as a recovery's first, so that a caller that had only stalled and
        // settles late adds only what it used beyond them, and publishes only that.
        const taken = await this.settlements.record(
          reservation,
          owed ? { by: 'recovery', ...owed } : { by: 'reclaim' },
        );
        // Else a recovery took it first, and has not reached every item yet: its figures count there.
        const figures = owed ?? (taken.by === 'recovery' ? recoveredFigures(taken) : undefined);
        if (!figures) {
          return this.releaseHeld(reservation, heldCounters(reservation, true), {
            forRecord: true,
          });
        }
        if (!settlingFigures) return false;
        return this.finishSettle(reservation, figures, {
          forRecord: taken.by === 'recovery',
          entryFigures: settleTo,
          ...(onCounted && { onCounted }),
          // Billed only where it still held something: a call settled or released, whose
          // entry's delete failed, is no abandoned one.
          ...(abandoned && onAbandoned && { onTaken: () => onAbandoned(abandoned) }),
        });
      }),
    );
    return reclaimed.filter(Boolean).length;
  }

  /**
   * Expired holds on these items that no index entry lists, so the sweep cannot find them:
   * their caller died before its entry landed, or could not write it. The hold's name
   * carries its reservation's expiry, its value the amount; each is reclaimed as the sweep
   * reclaims (recorded first, so a late settle still counts its call once).
   */
  private async reclaimUnindexed(counters: Counter[], nowMs: number): Promise<number> {
    const items = await batchGetAll(
      { client: this.client, tableName: this.tableName },
      counters.map((counter) => counter.key),
      { consistent: true },
    );
    const expired = counters.flatMap((counter) => {
      const item = items.find(
        (found) => found.pk === counter.key.pk && found.sk === counter.key.sk,
      );
      return expiredHolds(item, nowMs).map((hold) => ({ counter, hold }));
    });
    const reclaimed = await Promise.all(
      expired.map(async ({ counter, hold }) => {
        if (await this.index.has(hold)) return false;
        const taken = await this.settlements.record(hold, { by: 'reclaim' });
        return taken.by === 'recovery'
          ? this.settleHold(hold, counter, recoveredFigures(taken), { forRecord: true })
          : this.releaseOn(hold, counter, { forRecord: true });
      }),
    );
    return reclaimed.filter(Boolean).length;
  }

  async listReservations(): Promise<Reservation[]> {
    return (await this.index.entries({})).map((entry) => entry.reservation);
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

  /** Every shard's, those a larger budget used earlier in the month included. */
  async globalMonthSpendNanoUsd(month: string): Promise<number> {
    const shards = await this.shardCaps.readShards(month, { consistent: false });
    return shards.reduce((spent, shard) => spent + shard.spentNanoUsd, 0);
  }

  async userBudgetOverrideUsd(userId: string): Promise<number | undefined> {
    const budgetNanoUsd = await this.storedBudgetNanoUsd(userId);
    return budgetNanoUsd === undefined ? undefined : nanoToUsd(budgetNanoUsd);
  }

  async setUserBudgetOverride(userId: string, budgetUsd: number, nowMs: number): Promise<void> {
    const budgetNanoUsd = usdToNano(budgetUsd);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...ledgerKeys.userBudget(userId), monthlyBudgetNanoUsd: budgetNanoUsd },
      }),
    );
    // The month under way takes the new budget at once; later months start with it. Two
    // settings at once may land their month updates in the other order than their puts:
    // each applies what is stored until it finds it applied, so the last put wins both.
    const month = ledgerKeys.userMonth(userId, monthOf(nowMs));
    // The next month too, started now if it has not: set as a month ends, the next may have
    // started before the put landed, or start from a reading of the budget made before it
    // (its first call's, on an instance whose clock runs ahead perhaps), and would follow
    // the default all month.
    const next = ledgerKeys.userMonth(userId, nextMonthOf(nowMs));
    for (let applied = budgetNanoUsd, tries = 0; tries < 5; tries++) {
      const budget: UserBudget = { nanoUsd: applied, basis: OWN_BUDGET };
      await Promise.all([
        this.startUserMonth(month, budget, 'always'),
        this.startUserMonth(next, budget, 'always'),
      ]);
      const stored = await this.storedBudgetNanoUsd(userId);
      if (stored === undefined || stored === applied) return;
      applied = stored;
    }
  }

  private async storedBudgetNanoUsd(userId: string): Promise<number | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: ledgerKeys.userBudget(userId),
        ConsistentRead: true,
      }),
    );
    return Item?.monthlyBudgetNanoUsd === undefined ? undefined : Number(Item.monthlyBudgetNanoUsd);
  }
}

/** The reservation, when its call is billed as abandoned should it never be settled. */
const abandonedCall = (reservation: Reservation): AbandonedReservation | undefined =>
  reservation.ifAbandoned ? (reservation as AbandonedReservation) : undefined;

/** A hold refused by its bound: nothing of it landed. */
function isBudgetRefusal(outcome: PromiseSettledResult<void> | undefined): boolean {
  return outcome?.status === 'rejected' && outcome.reason instanceof BudgetExceededError;
}

/**
 * Runs holds one after the other, in `order`, until one is refused: the outcomes by index
 * (none for a hold not tried).
 */
async function holdInTurn(
  holds: ReadonlyArray<() => Promise<void>>,
  order: readonly number[],
): Promise<Array<PromiseSettledResult<void> | undefined>> {
  const outcomes: Array<PromiseSettledResult<void> | undefined> = [];
  for (const index of order) {
    const hold = holds[index];
    if (!hold) continue;
    try {
      outcomes[index] = { status: 'fulfilled', value: await hold() };
    } catch (reason) {
      outcomes[index] = { status: 'rejected', reason };
      break;
    }
  }
  return outcomes;
}
