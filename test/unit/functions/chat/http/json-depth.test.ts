import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../../../../functions/chat/http/json-depth.js';

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
});
