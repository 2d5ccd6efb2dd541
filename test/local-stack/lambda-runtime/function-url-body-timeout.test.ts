import { setTimeout as sleep } from 'node:timers/promises';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { rawExchange } from './support.js';

const IDLE_TIMEOUT_MS = 400;

let functionUrl: FunctionUrl | undefined;
afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

async function serveRecording() {
  const events: LambdaFunctionURLEvent[] = [];
  functionUrl = await startFunctionUrl({
    functionName: 'chat',
    timeoutMs: 10_000,
    bodyIdleTimeoutMs: IDLE_TIMEOUT_MS,
    log: () => {},
    handler: async (event: LambdaFunctionURLEvent) => {
      events.push(event);
      return { statusCode: 200, body: 'ok' };
    },
  });
  return { url: functionUrl.url, events };
}

describe('a request body that stops arriving', () => {
  it('gets 408 and a closed connection when it is shorter than its Content-Length, without invoking', async () => {
    const { url, events } = await serveRecording();

    // rawExchange resolves once the server has closed the connection.
    const answer = await rawExchange(
      url,
      'POST /v1/chat HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n' +
        'content-length: 100\r\n\r\n{"message":',
    );

    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer).toContain('connection: close');
    expect(answer).toMatch(/\r\n\r\n\{"message":"Request Timeout"\}$/);
    expect(events).toHaveLength(0);
  });

  it('is not cut while its bytes keep coming, however long it takes in all', async () => {
    const { url, events } = await serveRecording();
    const parts = ['{"mess', 'age":', '"slow', ' but', ' steady', '"}'];
    const body = parts.join('');

    const answer = await rawExchange(url, async (socket) => {
      socket.write(
        `POST /v1/chat HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n` +
          `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      // Six gaps of a quarter of the idle timeout: longer in all than the timeout itself.
      for (const part of parts) {
        await sleep(IDLE_TIMEOUT_MS / 4);
        socket.write(part);
      }
    });

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(events.map((event) => event.body)).toEqual([body]);
  });
});
