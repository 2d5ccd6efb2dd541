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
