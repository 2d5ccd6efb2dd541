import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createAnthropicClient,
  type SdkLog,
} from '../../../../../shared/adapters/anthropic/anthropic-client.js';

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

  describe('its log', () => {
    const WORDS = 'the words of the user quoted back';
    const lines: Array<[level: string, message: string]> = [];
    const log: SdkLog = {
      error: (message) => lines.push(['error', message]),
      warn: (message) => lines.push(['warn', message]),
      info: (message) => lines.push(['info', message]),
      debug: (message) => lines.push(['debug', message]),
    };
    beforeEach(() => {
      lines.length = 0;
    });
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
    });

    /** A client logging to `log`, of a server answering with `answer`. */
    async function clientOf(answer: (res: ServerResponse) => void) {
      const server = createServer((req, res) => {
        req.resume();
        answer(res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return {
        client: createAnthropicClient({ apiKey: 'test', baseURL: `http://127.0.0.1:${port}`, log }),
        close: () => new Promise((resolve) => server.close(resolve)),
      };
    }

    it("keeps the SDK's own words and drops the stream event it could not parse, the answer's text", async () => {
      const { client, close } = await clientOf((res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { ...MESSAGE, content: [] } })}\n\n` +
            `event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"${WORDS}\n\n`,
        );
      });
      try {
        const stream = await client.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        });
        const read = async () => {
          for await (const _event of stream);
        };

        await expect(read()).rejects.toThrow();

        expect(lines).toContainEqual(['error', expect.stringContaining('Could not parse')]);
        expect(JSON.stringify(lines)).not.toContain(WORDS);
      } finally {
        await close();
      }
    });

    it('logs no request, whatever level ANTHROPIC_LOG asks for', async () => {
      vi.stubEnv('ANTHROPIC_LOG', 'debug');
      for (const level of ['error', 'warn', 'info', 'debug', 'log'] as const) {
        vi.spyOn(console, level).mockImplementation((...args) =>
          lines.push([level, JSON.stringify(args)]),
        );
      }
      const { client, close } = await clientOf((res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(MESSAGE));
      });
      try {
        await client.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: WORDS }],
        });

        expect(lines).toEqual([]);
      } finally {
        await close();
      }
    });
  });
});
