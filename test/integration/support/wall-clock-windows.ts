import { setTimeout as sleep } from 'node:timers/promises';

const MINUTE_MS = 60_000;

/**
 * Rate limits count in fixed one-minute windows on the wall clock, so calls that straddle a
 * minute's end land in two windows and the second is never refused. A test that expects a
 * refusal starts its calls at least `marginMs` before the minute ends.
 */
export async function awayFromMinuteEnd(marginMs = 15_000): Promise<void> {
  const leftMs = MINUTE_MS - (Date.now() % MINUTE_MS);
  if (leftMs < marginMs) await sleep(leftMs + 50);
}

/**
 * Budgets and usage count per calendar month (UTC) on the wall clock, so a test that spends and
 * then reads "this month" would read a fresh month if it ran across a month's end. A run starts
 * at least `marginMs` before the month ends, or waits for the next one to begin.
 */
export async function awayFromMonthEnd(
  marginMs: number,
  onWait: (waitMs: number) => void = () => {},
): Promise<void> {
  const now = new Date();
  const nextMonthMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const leftMs = nextMonthMs - now.getTime();
  if (leftMs >= marginMs) return;
  onWait(leftMs + 50);
  await sleep(leftMs + 50);
}
