import {
  type AbandonedCall,
  abandonedCost,
  holdableAmount,
  monthOf,
  nextMonthOf,
} from '../../shared/domain/budget.js';
import {
  deploymentBudgetExceeded,
  keyBudgetExceeded,
  userBudgetExceeded,
} from '../../shared/domain/budget-refusals.js';
import { BudgetExceededError } from '../../shared/domain/errors.js';
import { nanoToUsd, usdToNano } from '../../shared/domain/pricing/model-price.js';
import {
  type CountedSpend,
  countedSpend,
  type LateSpend,
  lateSpend,
  type Settlement,
} from '../../shared/domain/settlement.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type { MonthUsage, Reservation, UsageLedger } from '../../shared/ports/usage-ledger.js';

/** What a user month's budget follows when an operator set the user's own. */
const OWN_BUDGET = 'own';

type Counters = Omit<MonthUsage, 'month'>;

const zeroCounters = (): Counters => ({
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
  spentNanoUsd: 0,
  heldNanoUsd: 0,
});

/**
 * The UsageLedger port in memory, with the DynamoDB adapter's semantics: budgets
 * checked against spent + reserved, expired reservations reclaimed (and retried once
 * when a budget is full), a settle after a reclaim still recording the spend.
 * The global budget is one exact counter, as the adapter's is below $20 (one shard).
 */
export class InMemoryUsageLedger implements UsageLedger {
  /** Every settle, in order: what a test checks a call was charged. */
  readonly settled: Array<{
    reservation: Reservation;
    actual: { usage: TokenUsage; costNanoUsd: number };
  }> = [];
  private readonly users = new Map<string, Counters>();
  private readonly global = new Map<string, Counters>();
  private readonly keys = new Map<string, Counters>();
  /** Each user month's budget, set when the month starts, an operator or the default changes it. */
  private readonly monthBudgets = new Map<string, number>();
  /** What each user month's budget follows: the user's own, or the default of that amount. */
  private readonly monthBases = new Map<string, number | typeof OWN_BUDGET>();
  private readonly reservations = new Map<string, Reservation>();
  /** Who took a hold from its caller, by reservation id. */
  private readonly settlements = new Map<string, Settlement>();
  private readonly overridesNanoUsd = new Map<string, number>();
  private nextId = 1;

  plan(request: Parameters<UsageLedger['plan']>[0]): Reservation {
    return {
      id: request.id ?? `resv_${this.nextId++}`,
      userId: request.userId,
      month: monthOf(request.nowMs),
      shard: 0,
      amountNanoUsd: holdableAmount(request.amountNanoUsd),
      expiresAtMs: request.expiresAtMs,
      ...(request.holder && { holder: request.holder }),
      ...(request.apiKey && { keyId: request.apiKey.id }),
    };
  }

  async reserve(request: Parameters<UsageLedger['reserve']>[0]): Promise<Reservation> {
    const planned = this.plan(request);
    const monthKey = `${request.userId}\u0000${planned.month}`;
    const basis = this.monthBases.get(monthKey);
    if (basis !== OWN_BUDGET && basis !== request.userDefaultBudgetNanoUsd) {
      const own = this.overridesNanoUsd.get(request.userId);
      this.monthBudgets.set(monthKey, own ?? request.userDefaultBudgetNanoUsd);
      this.monthBases.set(
        monthKey,
        own === undefined ? request.userDefaultBudgetNanoUsd : OWN_BUDGET,
      );
    }
    try {
      return this.tryReserve(planned, request);
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      // Holds of crashed calls may be what fills the budget: give them back, try once more.
      if (this.reclaim(request.nowMs, { settlingFigures: false }) === 0) throw error;
      return this.tryReserve(planned, request);
    }
  }

  async settle(
    reservation: Reservation,
    actual: { usage: TokenUsage; costNanoUsd: number },
    options: { recovered?: boolean } = {},
  ): Promise<CountedSpend> {
    this.settled.push(structuredClone({ reservation, actual }));
    if (options.recovered && !this.settlements.has(reservation.id)) {
      this.settlements.set(reservation.id, { by: 'recovery', ...structuredClone(actual) });
    }
    const held = this.reservations.delete(reservation.id);
    const taken = this.settlements.get(reservation.id);
    const settler = options.recovered ? 'recovery' : 'caller';
    // Taken meanwhile (recovered, or reclaimed): only what nobody recorded is added.
    const spend = held ? { requests: 1, ...actual } : lateSpend(actual, taken, settler);
    const heldDelta = held ? spend.costNanoUsd - reservation.amountNanoUsd : spend.costNanoUsd;
    this.addSpend(reservation, spend, heldDelta);
    return held ? actual : countedSpend(actual, taken, settler);
  }

  private addSpend(reservation: Reservation, spend: LateSpend, heldDelta: number): void {
    for (const counters of this.countersOf(reservation)) {
      counters.heldNanoUsd += heldDelta;
      counters.spentNanoUsd += spend.costNanoUsd;
      counters.requests += spend.requests;
      counters.inputTokens += spend.usage.inputTokens;
      counters.outputTokens += spend.usage.outputTokens;
      counters.cacheReadInputTokens += spend.usage.cacheReadInputTokens;
      counters.cacheCreationInputTokens += spend.usage.cacheCreationInputTokens;
    }
  }

  async billIfAbandoned(reservation: Reservation, call: AbandonedCall): Promise<void> {
    const held = this.reservations.get(reservation.id);
    if (held) held.ifAbandoned = structuredClone(call);
  }

  async release(reservation: Reservation): Promise<void> {
    this.releaseHold(reservation);
  }

  async reclaimExpired(
    nowMs: number,
    options: Parameters<UsageLedger['reclaimExpired']>[1] = {},
  ): Promise<number> {
    return this.reclaim(nowMs, { ...options, settlingFigures: true });
  }

  /** A reserve short of room gives back only holds that bill nothing, as the adapter's does. */
  private reclaim(
    nowMs: number,
    {
      sparing,
      onCounted,
      onAbandoned,
      settlingFigures,
    }: Parameters<UsageLedger['reclaimExpired']>[1] & { settlingFigures: boolean },
  ): number {
    const expired = [...this.reservations.values()].filter((r) =>
      r.ifAbandoned
        ? settlingFigures && r.expiresAtMs < nowMs
        : r.expiresAtMs < nowMs && !(r.holder && sparing?.has(r.holder)),
    );
    let reclaimed = 0;
    for (const reservation of expired) {
      const { id, ifAbandoned } = reservation;
      if (!ifAbandoned) {
        if (!this.settlements.has(id)) this.settlements.set(id, { by: 'reclaim' });
        if (this.releaseHold(reservation)) reclaimed++;
        continue;
      }
      const owed = abandonedCost(reservation);
      if (!this.settlements.has(id)) this.settlements.set(id, { by: 'recovery', ...owed });
      onAbandoned?.({ ...reservation, ifAbandoned });
      this.reservations.delete(id);
      this.addSpend(
        reservation,
        { requests: 1, ...owed },
        owed.costNanoUsd - reservation.amountNanoUsd,
      );
      onCounted?.(owed);
      reclaimed++;
    }
    return reclaimed;
  }

  async listReservations(): Promise<Reservation[]> {
    return [...this.reservations.values()].map((reservation) => ({ ...reservation }));
  }

  async userMonth(userId: string, month: string): Promise<MonthUsage> {
    return { month, ...(this.users.get(`${userId}\u0000${month}`) ?? zeroCounters()) };
  }

  async keyMonth(keyId: string, month: string): Promise<MonthUsage> {
    return { month, ...(this.keys.get(`${keyId}\u0000${month}`) ?? zeroCounters()) };
  }

  async globalMonthSpendNanoUsd(month: string): Promise<number> {
    return this.global.get(month)?.spentNanoUsd ?? 0;
  }

  async userBudgetOverrideUsd(userId: string): Promise<number | undefined> {
    const nanoUsd = this.overridesNanoUsd.get(userId);
    return nanoUsd === undefined ? undefined : nanoToUsd(nanoUsd);
  }

  async setUserBudgetOverride(userId: string, budgetUsd: number, nowMs: number): Promise<void> {
    this.overridesNanoUsd.set(userId, usdToNano(budgetUsd));
    this.monthBudgets.set(`${userId}\u0000${monthOf(nowMs)}`, usdToNano(budgetUsd));
    this.monthBases.set(`${userId}\u0000${monthOf(nowMs)}`, OWN_BUDGET);
    // The next month too, as the adapter does: it may have started as this month ended.
    this.monthBudgets.set(`${userId}\u0000${nextMonthOf(nowMs)}`, usdToNano(budgetUsd));
    this.monthBases.set(`${userId}\u0000${nextMonthOf(nowMs)}`, OWN_BUDGET);
  }

  private tryReserve(
    planned: Reservation,
    request: Parameters<UsageLedger['reserve']>[0],
  ): Reservation {
    const { userId, month, amountNanoUsd } = planned;
    const { globalBudgetNanoUsd, apiKey } = request;
    const userBudgetNanoUsd = this.monthBudgets.get(`${userId}\u0000${month}`) ?? 0;
    const counters = this.countersOf({ userId, month, ...(apiKey && { keyId: apiKey.id }) });
    const [user, global, key] = counters;
    // Only what calls in flight hold stands in the way: the spent part leaves room.
    const refusal = (counter: Counters, budgetNanoUsd: number) => ({
      budgetNanoUsd,
      spentNanoUsd: counter.spentNanoUsd,
      heldByCallsInFlight: counter.spentNanoUsd + amountNanoUsd <= budgetNanoUsd,
    });
    const refusals: BudgetExceededError[] = [];
    if (user.heldNanoUsd + amountNanoUsd > userBudgetNanoUsd) {
      refusals.push(userBudgetExceeded(refusal(user, userBudgetNanoUsd)));
    }
    const keyBudget = apiKey?.budgetNanoUsd;
    if (key && keyBudget !== undefined && key.heldNanoUsd + amountNanoUsd > keyBudget) {
      refusals.push(keyBudgetExceeded(refusal(key, keyBudget)));
    }
    if (global.heldNanoUsd + amountNanoUsd > globalBudgetNanoUsd) {
      const { heldByCallsInFlight } = refusal(global, globalBudgetNanoUsd);
      refusals.push(deploymentBudgetExceeded({ heldByCallsInFlight }));
    }
    // Only when every budget in the way waits on holds alone may the call fit later.
    const refused = refusals.find((refusal) => !refusal.heldByCallsInFlight) ?? refusals[0];
    if (refused) throw refused;
    for (const counter of counters) counter.heldNanoUsd += amountNanoUsd;
    const reservation = { ...planned };
    this.reservations.set(reservation.id, reservation);
    return { ...reservation };
  }

  /** @returns false when the reservation was already settled, released or reclaimed */
  private releaseHold(reservation: Reservation): boolean {
    if (!this.reservations.delete(reservation.id)) return false;
    for (const counters of this.countersOf(reservation)) {
      counters.heldNanoUsd -= reservation.amountNanoUsd;
    }
    return true;
  }

  /** The user's, the deployment's and the API key's counters for the reservation's month. */
  private countersOf({ userId, month, keyId }: Pick<Reservation, 'userId' | 'month' | 'keyId'>) {
    const counters = (map: Map<string, Counters>, key: string) => {
      if (!map.has(key)) map.set(key, zeroCounters());
      return map.get(key)!;
    };
    return [
      counters(this.users, `${userId}\u0000${month}`),
      counters(this.global, month),
      ...(keyId ? [counters(this.keys, `${keyId}\u0000${month}`)] : []),
    ] as const;
  }
}
