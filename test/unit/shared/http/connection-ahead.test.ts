import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openConnectionAhead } from '../../../../shared/http/connection-ahead.js';

describe('openConnectionAhead', () => {
  it('settles without a word when nothing listens there', async () => {
    await expect(openConnectionAhead('http://127.0.0.1:9/')).resolves.toBeUndefined();
  });

  it('follows no redirect: it would open a connection to another host', async () => {
    const elsewhere = await listening(createServer((_, res) => res.end('a page')));
    const origin = await listening(
      createServer((_, res) => {
        res.writeHead(301, { location: elsewhere.url });
        res.end('moved');
      }),
    );
    try {
      await openConnectionAhead(`${origin.url}/`);

      expect([origin.requests(), elsewhere.requests()]).toEqual([1, 0]);
    } finally {
      await Promise.all([origin.close(), elsewhere.close()]);
    }
  });

  it('gives up on an upstream that never answers, after its timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await expect(
        openConnectionAhead(`http://127.0.0.1:${port}/`, { timeoutMs: 50 }),
      ).resolves.toBeUndefined();
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

async function listening(server: Server) {
  let requests = 0;
  server.on('request', () => requests++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
