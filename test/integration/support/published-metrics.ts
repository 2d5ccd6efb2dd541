import { vi } from 'vitest';

/**
 * Puts the metrics this process's functions publish (EMF lines on stdout) into `published`,
 * until the function it returns is called. Metrics are turned on meanwhile (the tests run
 * with them off): call it before the stack starts. What is written to stdout, the
 * failures' log lines included, is kept out of the test output.
 */
export function capturePublishedMetrics(published: Array<Record<string, unknown>>): () => void {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    published.push(...emfLines(String(chunk).split('\n')));
    return true;
  });
  return () => {
    write.mockRestore();
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  };
}

/** The EMF lines among `lines`, parsed. */
export const emfLines = (lines: readonly string[]) =>
  lines
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
