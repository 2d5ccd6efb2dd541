import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jsonShapeIssue, nestsDeeperThan } from '../../../../../functions/chat/http/json-depth.js';

const nested = (depth: number, leaf: unknown = 1): unknown =>
  Array.from({ length: depth }).reduce<unknown>(
    (inner, _, i) => (i % 2 === 0 ? [inner] : { inner }),
    leaf,
  );

describe('nestsDeeperThan', () => {
  it('counts arrays and objects alike, a level each', () => {
    expect(nestsDeeperThan(nested(3), 3)).toBe(false);
    expect(nestsDeeperThan(nested(4), 3)).toBe(true);
  });

  it('does not count scalars, strings or null as a level', () => {
    expect(nestsDeeperThan('x'.repeat(10_000), 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan({ a: null, b: 'text', c: 1 }, 1)).toBe(false);
  });

  it('finds the one deep branch of a wide value', () => {
    const wide = Array.from({ length: 1_000 }, (_, i) => (i === 777 ? nested(10) : { i }));
    expect(nestsDeeperThan(wide, 10)).toBe(true);
    expect(nestsDeeperThan(wide, 11)).toBe(false);
  });

  it('walks nesting far deeper than the stack would allow a recursive walk', () => {
    expect(nestsDeeperThan(nested(200_000), 128)).toBe(true);
  });

  it('walks millions of numbers in little more memory than they take', async () => {
    // 3 million numbers are 24 MB; a pending pair for each took hundreds of MB more.
    const fixture = fileURLToPath(new URL('./wide-json-depth.fixture.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--max-old-space-size=64',
      '--import',
      'tsx',
      fixture,
      '3000000',
    ]);

    expect(stdout.trim()).toBe('false');
  });

  it('finds an object with more members than allowed, however shallow', () => {
    const wide = (members: number) =>
      Object.fromEntries(Array.from({ length: members }, (_, i) => [`k${i}`, 0]));
    const limits = { maxDepth: 128, maxMembers: 100 };

    expect(jsonShapeIssue([{ tool: wide(100) }], limits)).toBeUndefined();
    expect(jsonShapeIssue([{ tool: wide(101) }], limits)).toBe('members');
    // Arrays are not objects: a long one is no wider than its entries.
    expect(
      jsonShapeIssue(
        Array.from({ length: 1_000 }, () => 0),
        limits,
      ),
    ).toBeUndefined();
  });
});
