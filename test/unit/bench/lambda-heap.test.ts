import { describe, expect, it } from 'vitest';
import { lambdaHeapFlags } from '../../../bench/lambda-heap.js';

describe('lambdaHeapFlags', () => {
  it("gives V8 the heap Lambda's Node.js bootstrap gives a function of that memory", () => {
    // A tenth of the memory as new space, in two semi-spaces; the rest as old space.
    expect(lambdaHeapFlags(384)).toEqual(['--max-semi-space-size=19', '--max-old-space-size=346']);
    expect(lambdaHeapFlags(1024)).toEqual(['--max-semi-space-size=51', '--max-old-space-size=922']);
  });
});
