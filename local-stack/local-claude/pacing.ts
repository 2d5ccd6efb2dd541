import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms` (or one event-loop turn for 0, so a client abort is noticed between tokens).
 * @returns false when `signal` aborted first: the caller must stop generating
 */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    if (ms > 0) await sleep(ms, undefined, { signal });
    else await nextTurn(undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when `signal` aborts: a stalled stream waits here for the client or close(). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

/** Milliseconds between two text deltas at `tokensPerSecond` (0 = no wait). */
export const tokenIntervalMs = (tokensPerSecond: number) =>
  tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
