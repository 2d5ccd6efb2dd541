/** What a watch gives: a signal aborted once its look saw what it waits for, and how to stop it. */
export interface Watch {
  readonly signal: AbortSignal;
  /** Stops looking, once a look under way has ended (it would outlive the invocation). */
  stop(): Promise<void>;
}

/**
 * Looks every `everyMs` (one look at a time) and aborts the signal, with `reason`, once a
 * look answers true: a job's calls stop when what they were for is gone (a compaction's
 * conversation deleted, a job cancelled by its user). A look that fails says nothing: the
 * next one looks again.
 */
export function watch(look: () => Promise<boolean>, everyMs: number, reason: Error): Watch {
  const controller = new AbortController();
  let looking: Promise<void> | undefined;
  const lookOnce = async () => {
    try {
      if (await look()) {
        controller.abort(reason);
        clearInterval(timer);
      }
    } catch {
      // A failed read says nothing: the next one looks again.
    } finally {
      looking = undefined;
    }
  };
  const timer = setInterval(() => {
    looking ??= lookOnce();
  }, everyMs);
  return {
    signal: controller.signal,
    stop: async () => {
      clearInterval(timer);
      await looking;
    },
  };
}
