import { AsyncLocalStorage } from 'node:async_hooks';

/** One call's requests (its first and its retries) that are sent and await their answer. */
export interface AwaitedAttempts {
  awaiting: number;
  /**
   * How long each request whose connection broke while it awaited its answer had awaited it
   * (ms): upstream may have been writing the answer all along. Not one refused a connection,
   * which never reached upstream, nor one aborted by its caller.
   */
  broken: number[];
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
    const sentAtMs = Date.now();
    try {
      return await next(input, init);
    } catch (error) {
      if (!init?.signal?.aborted && !neverSent(error)) attempts.broken.push(Date.now() - sentAtMs);
      throw error;
    } finally {
      attempts.awaiting--;
    }
  };
}

/** Codes of a connection that was never made: the request did not reach upstream. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function neverSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' && NOT_CONNECTED.has(cause.code);
}
