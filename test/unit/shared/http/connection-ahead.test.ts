import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openConnectionAhead } from '../../../../shared/http/connection-ahead.js';

describe('openConnectionAhead', () => {
  it('settles without a word when nothing listens there', async () => {
    await expect(openConnectionAhead('http://127.0.0.1:9/')).resolves.toBeUndefined();
  });

  it('gives up on an upstream that never answers, after its timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await expect(openConnectionAhead(`http://127.0.0.1:${port}/`, 50)).resolves.toBeUndefined();
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
