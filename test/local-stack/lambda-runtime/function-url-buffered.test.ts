import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { forever } from './support.js';

let functionUrl: FunctionUrl | undefined;
afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

async function serve(handler: (...args: never[]) => unknown, timeoutMs = 10_000) {
  functionUrl = await startFunctionUrl({ functionName: 'api', timeoutMs, handler, log: () => {} });
  return functionUrl.url;
}

describe('a buffered (non-streaming) handler behind the local function URL', () => {
  it('sends the status, headers, cookies and body it returns', async () => {
    const url = await serve(async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
      cookies: ['id=1; HttpOnly'],
      body: JSON.stringify({ created: true }),
    }));

    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-custom')).toBe('v');
    expect(response.headers.getSetCookie()).toEqual(['id=1; HttpOnly']);
    expect(await response.json()).toEqual({ created: true });
  });

  it('decodes a base64 body', async () => {
    const url = await serve(async () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    }));

    const response = await fetch(url);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('serializes a result without statusCode as a 200 JSON body', async () => {
    const url = await serve(async () => 'Hello, world!');

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('"Hello, world!"');
  });

  it('answers 502 when the handler throws', async () => {
    const url = await serve(async () => {
      throw new Error('boom');
    });

    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 502 when the handler runs past its timeout', async () => {
    const url = await serve(() => forever(), 200);
    expect((await fetch(url)).status).toBe(502);
  });

  it('answers a head over 16 KiB with 431 instead of resetting the connection, without invoking', async () => {
    let invoked = false;
    const url = new URL(
      await serve(async () => {
        invoked = true;
        return { statusCode: 200, body: 'ok' };
      }),
    );

    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`GET / HTTP/1.1\r\nhost: ${url.host}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });

    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('"message":"Request Header Fields Too Large"');
    expect(invoked).toBe(false);
  });
});
