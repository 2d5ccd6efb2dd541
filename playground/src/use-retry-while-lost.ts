import { useEffect, useRef } from 'react';

/** How often a lost connection is tried again: a dropped connection need not take the browser offline. */
const RETRY_INTERVAL_MS = 5_000;

/**
 * While `lost`, calls `retry` when the browser says it is back online, and every
 * RETRY_INTERVAL_MS; one call at a time. A failed call is tried again at the next.
 */
export function useRetryWhileLost(lost: boolean, retry: () => Promise<unknown>) {
  const latest = useRef(retry);
  latest.current = retry;
  useEffect(() => {
    if (!lost) return;
    let running = false;
    const attempt = () => {
      if (running) return;
      running = true;
      latest.current().then(
        () => {
          running = false;
        },
        () => {
          running = false;
        },
      );
    };
    window.addEventListener('online', attempt);
    const timer = setInterval(attempt, RETRY_INTERVAL_MS);
    return () => {
      window.removeEventListener('online', attempt);
      clearInterval(timer);
    };
  }, [lost]);
}
