import type { Clock } from '../domain/clock.js';
import type { CountedSpend } from '../domain/settlement.js';
import type { AbandonedReservation, UsageLedger } from '../ports/usage-ledger.js';
import { parseTurnHolder, type RecoverTurn } from './recover-turn.js';

export interface SweepReport {
  /** Turns found dead and ended as interrupted. */
  recovered: number;
  /** Reservations of callers that never came back, past their expiry. */
  reclaimed: number;
  /**
   * Of those, calls billed all they held (`/v1/messages` calls' and jobs' whose function died
   * mid-call: Claude bills what it generated).
   */
  abandoned: number;
  /** Turns that could not be checked this time; the next sweep tries again. */
  failed: number;
  /**
   * Turns holding reservations that this run had no time to check (a backlog larger than one
   * run): left, their reservations too, to a later run.
   */
  deferred: number;
  /** Whether reclaiming the expired holds failed (some may have been reclaimed all the same). */
  reclaimFailed: boolean;
}

export type SweepTurns = (options?: {
  /** Whether another turn may still be checked; the reclaims follow either way. */
  hasTime?: () => boolean;
}) => Promise<SweepReport>;

/**
 * Finds the turns whose function died, though no one touches their conversation again:
 * every unsettled reservation names the turn that holds it. Run every minute, so a dead
 * turn's answer is kept and its hold released within about a minute of its lease.
 */
export function createTurnSweeper(deps: {
  ledger: Pick<UsageLedger, 'listReservations' | 'reclaimExpired'>;
  recover: RecoverTurn;
  clock: Clock;
  /** A turn that could not be checked, and why (the next sweep tries it again). */
  onFailed?: (turn: { userId: string; conversationId: string }, error: unknown) => void;
  /**
   * What a settle to known figures counted in the deployment's month (a turn's answer stored
   * by a function that died before it settled, a settle that failed on some item): for the
   * spend metrics, which nobody else publishes it to.
   */
  onSettled?: (counted: CountedSpend) => void;
  /** Why reclaiming the expired holds failed (the next sweep tries again). */
  onReclaimFailed?: (error: unknown) => void;
  /** Records a call billed as abandoned for the usage report; never rejects. */
  recordAbandoned?: (call: AbandonedReservation) => Promise<void>;
}): SweepTurns {
  return async ({ hasTime = () => true } = {}) => {
    const report: SweepReport = {
      recovered: 0,
      reclaimed: 0,
      abandoned: 0,
      failed: 0,
      deferred: 0,
      reclaimFailed: false,
    };
    const turns = new Map<string, { userId: string; conversationId: string }>();
    for (const reservation of await deps.ledger.listReservations()) {
      const turn = parseTurnHolder(reservation.holder);
      if (turn) turns.set(reservation.holder!, turn);
    }
    // A turn killed near its deadline holds its lease up to 20 s past its reservation's
    // expiry: reclaimed then, its hold would go unbilled and its entry, by which alone a
    // sweep finds the turn, with it. Its recovery, in a later sweep, settles it instead.
    // Turns left unchecked are spared as well, for want of time or a failed check: one may be
    // dead, owed its recovery's bill (and one whose check keeps failing keeps failing the runs).
    const spared = new Set<string>();
    // In a new order each run: a run out of time leaves others than the last did, so turns
    // found alive at the front never keep the same ones waiting behind them.
    for (const [holder, { userId, conversationId }] of shuffled([...turns])) {
      if (!hasTime()) {
        report.deferred++;
        spared.add(holder);
        continue;
      }
      try {
        const recovery = await deps.recover(userId, conversationId);
        if (recovery === 'recovered') report.recovered++;
        if (recovery === 'alive') spared.add(holder);
      } catch (error) {
        report.failed++;
        spared.add(holder);
        deps.onFailed?.({ userId, conversationId }, error);
      }
    }
    const recording: Array<Promise<void>> = [];
    // Reported, not thrown: the run goes on to the budgets and publishes what it did.
    try {
      report.reclaimed = await deps.ledger.reclaimExpired(deps.clock(), {
        sparing: spared,
        ...(deps.onSettled && { onCounted: deps.onSettled }),
        onAbandoned: (call) => {
          report.abandoned++;
          if (deps.recordAbandoned) recording.push(deps.recordAbandoned(call));
        },
      });
    } catch (error) {
      report.reclaimFailed = true;
      deps.onReclaimFailed?.(error);
    }
    await Promise.all(recording);
    return report;
  };
}

/** A copy of `items` in random order (Fisher–Yates). */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
