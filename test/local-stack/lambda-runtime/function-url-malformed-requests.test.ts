import { connect } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  type FunctionUrlOptions,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { rawExchange } from './support.js';

let functionUrl: FunctionUrl | undefined;
afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

/** A function URL in front of a handler that records every event it is invoked with. */
async function serveRecording(options: Partial<FunctionUrlOptions> = {}) {
  const events: LambdaFunctionURLEvent[] = [];
  functionUrl = await startFunctionUrl({
    functionName: 'chat',
    timeoutMs: 10_000,
    log: () => {},
    handler: async (event: LambdaFunctionURLEvent) => {
      events.push(event);
      return { statusCode: 200, body: 'ok' };
    },
    ...options,
  });
  return { url: functionUrl.url, events };
}

const BAD_REQUEST = /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\n\{"message":"Bad Request"\}$/;

describe('a request head the function URL front end refuses itself', () => {
  it('answers an absolute-form target with 400, without invoking the function', async () => {
    const { url, events } = await serveRecording();

    const answer = await rawExchange(
      url,
      'GET http://evil.example/v1/health HTTP/1.1\r\nhost: evil.example\r\n\r\n',
    );

    expect(answer).toMatch(BAD_REQUEST);
    expect(answer).toContain('connection: close');
    expect(events).toHaveLength(0);
  });

  it.each([
    ['a space', 'a b'],
    ['an unclosed IPv6 literal', '[::'],
    ['an invalid IPv6 literal', '[::::]'],
    ['a port that is not a number', 'localhost:http'],
    ['a port out of range', 'localhost:70000'],
    ['a path', 'evil.example/v1'],
    ['an IPv4 address out of range', '10.0.0.999'],
    ['nothing', ''],
  ])('answers a Host with %s with 400, without invoking the function', async (_, host) => {
    const { url, events } = await serveRecording();

    const answer = await rawExchange(
      url,
      `GET /v1/health HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`,
    );

    expect(answer).toMatch(BAD_REQUEST);
    expect(events).toHaveLength(0);
  });

  it('answers two Host headers with 400, without invoking the function', async () => {
    const { url, events } = await serveRecording();

    const answer = await rawExchange(
      url,
      'GET / HTTP/1.1\r\nhost: a.example\r\nhost: b.example\r\n\r\n',
    );

    expect(answer).toMatch(BAD_REQUEST);
    expect(events).toHaveLength(0);
  });

  it('answers an HTTP/1.1 request without Host with the same JSON 400', async () => {
    const { url, events } = await serveRecording();

    const answer = await rawExchange(url, 'GET / HTTP/1.1\r\nconnection: close\r\n\r\n');

    expect(answer).toMatch(BAD_REQUEST);
    expect(events).toHaveLength(0);
  });
});

describe('a well-formed request head', () => {
  it.each([
    ['a function URL domain', 'abc123.lambda-url.us-east-1.on.aws', 'abc123'],
    ['a Docker service name and port', 'chat_api:3000', 'chat_api:3000'],
    ['an IPv6 literal and port', '[::1]:3000', '[::1]:3000'],
  ])('reaches the function with %s as host and domain name', async (_, host, domainPrefix) => {
    const { url, events } = await serveRecording();

    const answer = await rawExchange(
      url,
      `GET /v1/health?x=1 HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`,
    );

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      rawPath: '/v1/health',
      rawQueryString: 'x=1',
      headers: { host },
      requestContext: { domainName: host, domainPrefix, http: { path: '/v1/health' } },
    });
  });
});

describe('a request Node cannot parse, pipelined behind a streaming response', () => {
  it('closes the connection without writing a 400 into the response under way', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
      stream.write('first ');
      await new Promise((resolve) => setTimeout(resolve, 300));
      stream.end('second');
    });
    functionUrl = await startFunctionUrl({ functionName: 'chat', timeoutMs: 10_000, handler });
    const { hostname, port } = new URL(functionUrl.url);

    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(`GET / HTTP/1.1\r\nhost: ${hostname}\r\n\r\n`),
      );
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes('first ')) socket.write('NOT HTTP\x01\r\n\r\n');
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('first ');
    expect(answer).not.toContain('400 Bad Request');
  });
});
