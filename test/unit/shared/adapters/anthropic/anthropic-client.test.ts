import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createAnthropicClient } from '../../../../../shared/adapters/anthropic/anthropic-client.js';

const MESSAGE = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-haiku-4-5',
  content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
};

describe('createAnthropicClient', () => {
  it('sends a call again, on a new connection, when the one it kept turns out dead as the call goes out', async () => {
    // A kept connection the far end dropped unnoticed (a NAT gateway's idle timeout, a
    // close that reached a frozen instance): the request sent on it is reset.
    const connections = new WeakMap<Socket, number>();
    const seen: { connection: number; nth: number }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const connection = connections.get(req.socket)!;
      const nth = seen.filter((request) => request.connection === connection).length + 1;
      seen.push({ connection, nth });
      req.resume();
      if (connection === 1 && nth === 2) {
        req.socket.resetAndDestroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(MESSAGE));
    });
    server.keepAliveTimeout = 0;
    let accepted = 0;
    server.on('connection', (socket) => connections.set(socket, ++accepted));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const client = createAnthropicClient({ apiKey: 'test', baseURL: `http://127.0.0.1:${port}` });
      const ask = () =>
        client.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'hi' }],
        });

      await ask();
      // Back in the pool (it goes back a moment after the answer is read).
      await sleep(20);
      const second = await ask();

      expect(second.content).toEqual(MESSAGE.content);
      expect(seen).toEqual([
        { connection: 1, nth: 1 },
        { connection: 1, nth: 2 },
        { connection: 2, nth: 1 },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
