import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  type FunctionUrlOptions,
  type InvocationReport,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { deferred, forever, logLines, rawExchange, readToEnd, readUntil } from './support.js';

let functionUrl: FunctionUrl | undefined;
afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

async function serve(options: Partial<FunctionUrlOptions> & Pick<FunctionUrlOptions, 'handler'>) {
  functionUrl = await startFunctionUrl({ functionName: 'chat', timeoutMs: 30_000, ...options });
  return functionUrl.url;
}

describe('a middy streaming handler behind the local function URL', () => {
  it('sends the status and headers of the prelude, then body chunks as they are written', async () => {
    const body = new PassThrough();
    const handler = middy<LambdaFunctionURLEvent>({
      executionMode: executionModeStreamifyResponse,
    }).handler(async () => ({
      statusCode: 201,
      headers: { 'content-type': 'text/event-stream', 'x-conversation-id': 'c-1' },
      body,
    }));
    const url = await serve({ handler });
    body.write('data: one\n\n');

    const response = await fetch(`${url}/v1/chat`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-conversation-id')).toBe('c-1');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const reader = response.body!.getReader();
    // The second chunk is written only once the client has read the first.
    expect(await readUntil(reader, 'one')).toBe('data: one\n\n');
    body.end('data: two\n\n');
    expect(await readToEnd(reader)).toBe('data: two\n\n');
  });

  it('sends the headers before any body byte exists', async () => {
    const body = new PassThrough();
    const handler = middy({ executionMode: executionModeStreamifyResponse }).handler(async () => ({
      statusCode: 202,
      headers: { 'x-early': 'yes' },
      body,
    }));
    const url = await serve({ handler });

    const response = await fetch(url);
    expect(response.status).toBe(202);
    expect(response.headers.get('x-early')).toBe('yes');
    body.end('late');
    expect(await response.text()).toBe('late');
  });
});

describe('a raw awslambda.streamifyResponse handler', () => {
  it('gets status, headers and cookies from HttpResponseStream.from', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 418,
        headers: { 'Content-Type': 'text/plain', 'X-Teapot': 'short' },
        cookies: ['a=1; Path=/', 'b=2; Path=/'],
      });
      stream.write('I am ');
      stream.write('a teapot');
      stream.end();
    });
    const url = await serve({ handler });

    const response = await fetch(url);
    expect(response.status).toBe(418);
    expect(response.headers.get('x-teapot')).toBe('short');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await response.text()).toBe('I am a teapot');
  });

  it('passes a HEAD on to the handler, and sends its status and headers but never a body', async () => {
    const methods: string[] = [];
    const handler = awslambda.streamifyResponse(
      async (event: LambdaFunctionURLEvent, responseStream) => {
        methods.push(event.requestContext.http.method);
        const stream = awslambda.HttpResponseStream.from(responseStream, {
          statusCode: 200,
          headers: { 'Content-Type': 'application/json', 'X-Kept': 'yes' },
        });
        stream.write('{"a body":"a HEAD must not carry"}');
        stream.end();
      },
    );
    const url = await serve({ handler });

    const received = await rawExchange(
      url,
      `HEAD /health HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`,
    );

    expect(methods).toEqual(['HEAD']);
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toMatch(/\r\nx-kept: yes\r\n/i);
    expect(received.endsWith('\r\n\r\n')).toBe(true);
    expect(received).not.toContain('a body');
  });

  it('answers 200 with the stream content type when there is no prelude', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.setContentType('text/plain');
      responseStream.write('plain');
      responseStream.end();
    });
    const url = await serve({ handler });

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('plain');
  });

  it('answers 200 and an empty body after from() then end(data), as AWS does', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 }).end('lost');
    });
    const url = await serve({ handler });

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});

describe('failures', () => {
  it('answers 502 when the handler throws before writing', async () => {
    const { log, lines } = logLines();
    const handler = awslambda.streamifyResponse(async () => {
      throw new Error('boom');
    });
    const url = await serve({ handler, log });

    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(lines.some((line) => line.includes('Invoke Error') && line.includes('boom'))).toBe(true);
  });

  it('cuts the response when the handler throws after the first bytes', async () => {
    const failNow = deferred();
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
      stream.write('partial');
      await failNow.promise;
      throw new Error('upstream dropped');
    });
    const url = await serve({ handler, log: () => {} });

    const response = await fetch(url);
    const reader = response.body!.getReader();
    expect(await readUntil(reader, 'partial')).toBe('partial');
    failNow.resolve();
    await expect(readToEnd(reader)).rejects.toThrow();
  });

  it('answers 502 and logs the timeout when the handler has written nothing by then', async () => {
    const { log, lines } = logLines();
    const handler = awslambda.streamifyResponse(async () => forever());
    const url = await serve({ handler, timeoutMs: 300, log });

    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(lines.some((line) => line.endsWith('Task timed out after 0.30 seconds'))).toBe(true);
  });

  it('cuts the stream at the timeout when the handler is mid-stream', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 }).write('first');
      await forever();
    });
    const url = await serve({ handler, timeoutMs: 300, log: () => {} });

    const response = await fetch(url);
    const reader = response.body!.getReader();
    expect(await readUntil(reader, 'first')).toBe('first');
    await expect(readToEnd(reader)).rejects.toThrow();
  });

  it('times out a handler that returns without ending its stream', async () => {
    const { log, lines } = logLines();
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('never ended');
    });
    const url = await serve({ handler, timeoutMs: 300, log });

    const response = await fetch(url);
    await expect(response.text()).rejects.toThrow();
    expect(lines.some((line) => line.includes('Task timed out'))).toBe(true);
  });

  it('cuts a stream that grows past the response size limit', async () => {
    const ended = deferred<InvocationReport>();
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('a'.repeat(600));
      responseStream.write('b'.repeat(600));
      responseStream.end();
    });
    const url = await serve({
      handler,
      maxResponseBytes: 1_000,
      log: () => {},
      onInvocationEnd: ended.resolve,
    });

    const response = await fetch(url);
    await expect(response.text()).rejects.toThrow();
    expect((await ended.promise).discardedBytes).toBe(600);
  });
});

describe('a client that disconnects', () => {
  it('does not stop the handler, whose later writes are discarded', async () => {
    const clientLeft = deferred();
    const handlerDone = deferred<string>();
    const ended = deferred<InvocationReport>();
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
      stream.write('before');
      await clientLeft.promise;
      await new Promise<void>((resolve, reject) =>
        stream.write('after the client left', (error) => (error ? reject(error) : resolve())),
      );
      stream.end();
      handlerDone.resolve('completed');
    });
    const url = await serve({
      handler,
      onClientDisconnect: () => clientLeft.resolve(),
      onInvocationEnd: ended.resolve,
    });

    const req = request(url);
    req.on('response', (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    req.end();

    expect(await handlerDone.promise).toBe('completed');
    const report = await ended.promise;
    expect(report).toMatchObject({ outcome: 'succeeded', clientDisconnected: true });
    expect(report.discardedBytes).toBe(Buffer.byteLength('after the client left'));
  });
});
