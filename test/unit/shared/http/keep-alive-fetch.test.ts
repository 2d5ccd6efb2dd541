import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../../../shared/http/keep-alive-fetch.js';

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
/**
 * Longer than the 4 s Node's `fetch` keeps an idle connection by default, by more than the
 * half second its timers may fire late.
 */
const PAUSE_MS = 6_000;

describe('keepAliveFetch', () => {
  it.concurrent('keeps a connection idle longer than fetch would, when the server names no keep-alive', async () => {
    // As the Anthropic API answers: no Keep-Alive header (Cloudflare keeps it 400 s).
    const [kept, plain] = await Promise.all([rawServer(), rawServer()]);
    try {
      const send = keepAliveFetch(60_000);
      const twice = async (get: typeof fetch, url: string) => {
        await (await get(url)).text();
        await sleep(PAUSE_MS);
        await (await get(url)).text();
      };
      await Promise.all([twice(send, kept.url), twice(fetch, plain.url)]);

      expect({ kept: kept.connections(), plain: plain.connections() }).toEqual({
        kept: 1,
        plain: 2,
      });
    } finally {
      await Promise.all([kept.close(), plain.close()]);
    }
  }, 15_000);

  it.concurrent("still lets a server's own shorter keep-alive rule", async () => {
    const server = await rawServer({ keepAliveSeconds: 3 });
    try {
      const send = keepAliveFetch(60_000);
      await (await send(server.url)).text();
      await sleep(PAUSE_MS);
      await (await send(server.url)).text();

      expect(server.connections()).toBe(2);
    } finally {
      await server.close();
    }
  }, 15_000);

  describe('the dispatcher it sends with', () => {
    const original = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
    afterEach(() => {
      (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] = original;
    });

    it('is one Agent of its own, made once, beside the default one', async () => {
      const inits: (RequestInit | undefined)[] = [];
      const send = keepAliveFetch(60_000, async (_, init) => {
        inits.push(init);
        return new Response('ok');
      });
      await send('http://127.0.0.1:9/', { method: 'POST' });
      await send('http://127.0.0.1:9/');

      const [first, second] = inits.map((init) => (init as { dispatcher?: object }).dispatcher);
      expect(first?.constructor.name).toBe('Agent');
      expect(first).not.toBe((globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER]);
      expect(second).toBe(first);
      expect(inits[0]?.method).toBe('POST');
    });

    it("is the default one when that is not a plain Agent (a proxy's, a mock)", async () => {
      class EnvHttpProxyAgent {}
      (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] = new EnvHttpProxyAgent();
      const inits: (RequestInit | undefined)[] = [];
      const send = keepAliveFetch(60_000, async (_, init) => {
        inits.push(init);
        return new Response('ok');
      });
      await send('http://127.0.0.1:9/', { method: 'POST' });

      expect(inits).toEqual([{ method: 'POST' }]);
    });
  });
});

/** Answers every request `ok`, naming a keep-alive only when told to; counts connections. */
async function rawServer(options: { keepAliveSeconds?: number } = {}) {
  let connections = 0;
  const keepAlive =
    options.keepAliveSeconds === undefined
      ? ''
      : `keep-alive: timeout=${options.keepAliveSeconds}\r\n`;
  const server: Server = createServer((socket) => {
    connections++;
    socket.on('data', () =>
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${keepAlive}\r\nok`),
    );
    socket.on('error', () => {});
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
