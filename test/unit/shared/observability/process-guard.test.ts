import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./unhandled-rejection.fixture.ts', import.meta.url));

describe('guardProcess', () => {
  it('logs and counts a rejection nothing observed, and keeps the process serving', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', fixture],
      { env: { ...process.env, POWERTOOLS_DEV: 'false', POWERTOOLS_METRICS_DISABLED: 'false' } },
    );
    const lines = stdout.trim().split('\n');
    const logLine = [...lines, ...stderr.trim().split('\n')].map((line) =>
      JSON.parse(line.startsWith('{') ? line : '{}'),
    );
    expect(logLine).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'unhandled promise rejection',
        error: expect.objectContaining({ message: 'nobody is listening' }),
      }),
    );
    expect(logLine).toContainEqual(expect.objectContaining({ UnhandledErrors: 1 }));
    expect(lines.at(-1)).toBe('still serving');
  });
});
