import { AsyncLocalStorage } from 'node:async_hooks';

/** One call's requests (its first and its retries) that are sent and await their answer. */
export interface AwaitedAttempts {
  awaiting: number;
}

const current = new AsyncLocalStorage<AwaitedAttempts>();

/** Runs `call`, counting in `attempts` the requests it sends while they await their answer. */
export function countAwaitedAttempts<T>(attempts: AwaitedAttempts, call: () => Promise<T>) {
  return current.run(attempts, call);
}

/**
 * `fetch` that counts, for the call it runs in, the requests awaiting their answer: a
 * call cut while one is awaited may be generating upstream; one cut while it waits to
 * retry is not.
 */
export function awaitedAttemptsFetch(next: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const attempts = current.getStore();
    if (!attempts) return next(input, init);
    attempts.awaiting++;
    try {
      return await next(input, init);
    } finally {
      attempts.awaiting--;
    }
  };
}
