/** How an invocation ended, once its deadline is taken into account. */
export type Settled<T> = { timedOut: false; value: T } | { timedOut: true };

/**
 * Waits for `work` or for `timeoutMs`, whichever comes first. A rejection of `work` before
 * the deadline propagates. After the deadline the work keeps running (the handler runs
 * in-process and cannot be frozen as a Lambda sandbox is); its outcome is ignored.
 */
export async function settleWithin<T>(work: Promise<T>, timeoutMs: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
  });
  // A late rejection must not become an unhandled rejection.
  work.catch(() => {});
  try {
    return await Promise.race([
      work.then((value) => ({ timedOut: false as const, value })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The line Lambda logs when an invocation reaches its timeout. */
export function taskTimedOutLine(requestId: string, timeoutMs: number): string {
  return `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
}

/** The line the Node.js runtime logs for an error thrown by the handler. */
export function invokeErrorLine(requestId: string, error: unknown): string {
  const details =
    error instanceof Error
      ? {
          errorType: error.name,
          errorMessage: error.message,
          stack: error.stack?.split('\n') ?? [],
        }
      : { errorType: typeof error, errorMessage: String(error), stack: [] };
  return `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(details)}`;
}
