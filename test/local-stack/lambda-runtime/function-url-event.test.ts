import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { rawRequest } from './support.js';

let functionUrl: FunctionUrl;
let received: { event: LambdaFunctionURLEvent; context: Context }[] = [];

beforeAll(async () => {
  functionUrl = await startFunctionUrl({
    functionName: 'chat',
    timeoutMs: 10_000,
    handler: async (event: LambdaFunctionURLEvent, context: Context) => {
      received.push({ event, context });
      return { statusCode: 200, body: 'ok' };
    },
  });
});
afterAll(() => functionUrl.close());
beforeEach(() => {
  received = [];
});

const lastEvent = () => received.at(-1)!.event;

describe('the function URL event (payload format 2.0)', () => {
  it('carries the method, path, query string, headers and cookies', async () => {
    await rawRequest(functionUrl.url, {
      method: 'POST',
      path: '/v1/conversations/c-1?limit=10&tag=a&tag=b&q=hello%20world',
      headers: {
        'Content-Type': 'application/json',
        'X-Multi': ['one', 'two'],
        Cookie: 'session=abc; theme=dark',
        'User-Agent': 'vitest',
      },
      body: '{"message":"hi"}',
    });

    const event = lastEvent();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/conversations/c-1',
      rawQueryString: 'limit=10&tag=a&tag=b&q=hello%20world',
      queryStringParameters: { limit: '10', tag: 'a,b', q: 'hello world' },
      cookies: ['session=abc', 'theme=dark'],
      body: '{"message":"hi"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: 'anonymous',
        routeKey: '$default',
        stage: '$default',
        http: {
          method: 'POST',
          path: '/v1/conversations/c-1',
          protocol: 'HTTP/1.1',
          userAgent: 'vitest',
        },
      },
    });
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers.connection).toBeUndefined();
    expect(event.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(event.requestContext.time).toMatch(
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
  });

  it('passes the Powertools function URL schema', async () => {
    await fetch(`${functionUrl.url}/health?x=1`, { headers: { cookie: 'a=b' } });
    expect(LambdaFunctionUrlSchema.safeParse(lastEvent()).success).toBe(true);
  });

  it('omits the body and query parameters when there are none', async () => {
    await fetch(`${functionUrl.url}/health`);
    const event = lastEvent();
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.cookies).toBeUndefined();
    expect(event.rawQueryString).toBe('');
  });

  it('base64-encodes a binary body', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    await fetch(`${functionUrl.url}/upload`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(lastEvent()).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });

  it('keeps text bodies as text', async () => {
    await fetch(`${functionUrl.url}/note`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'héllo',
    });
    expect(lastEvent()).toMatchObject({ body: 'héllo', isBase64Encoded: false });
  });

  it('uses one request id for the event, the context and the response header', async () => {
    const response = await fetch(functionUrl.url);
    const { event, context } = received.at(-1)!;
    expect(event.requestContext.requestId).toBe(context.awsRequestId);
    expect(response.headers.get('x-amzn-requestid')).toBe(context.awsRequestId);
  });

  it('gives each invocation a context counting down from the function timeout', async () => {
    await fetch(functionUrl.url);
    await fetch(functionUrl.url);
    const [first, second] = received.map((r) => r.context);
    expect(first!.awsRequestId).not.toBe(second!.awsRequestId);
    expect(first!.functionName).toBe('chat');
    const remaining = second!.getRemainingTimeInMillis();
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(10_000);
  });

  it('refuses a body over 6 MB with 413 without invoking the function', async () => {
    const response = await fetch(`${functionUrl.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(6 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(received).toHaveLength(0);
  });

  // The 6 MB is the invocation payload's: the event, with the body base64-encoded or
  // JSON-escaped inside it, not the body as sent.
  it('refuses a binary body whose base64 event is over 6 MB, though the body is under it', async () => {
    const response = await fetch(`${functionUrl.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(received).toHaveLength(0);
  });

  it('refuses a JSON body whose escaping takes its event over 6 MB', async () => {
    // 5.5 MB of JSON, half of it escaped newlines: each `\n` grows by a byte in the event.
    const text = 'ab\\n'.repeat(1_375_000);
    const body = `{"message":"${text}"}`;
    expect(Buffer.byteLength(body)).toBeLessThan(6 * 1024 * 1024);
    const response = await fetch(`${functionUrl.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(413);
    expect(received).toHaveLength(0);
  });

  it('invokes with a JSON body just under 6 MB whose event still fits', async () => {
    const body = `{"message":"${'a'.repeat(6 * 1024 * 1024 - 4_096)}"}`;
    const response = await fetch(`${functionUrl.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(lastEvent().body).toBe(body);
  });
});
