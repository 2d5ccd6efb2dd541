/** The p-th percentile (0-100) of a sample, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * Runs `task` `count` times with at most `concurrency` at once; returns each result. Each
 * call is told which of the `concurrency` workers runs it (a client with its own state).
 */
export async function runPool<T>(
  count: number,
  concurrency: number,
  task: (i: number, worker: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i, worker);
      }
    }),
  );
  return results;
}
