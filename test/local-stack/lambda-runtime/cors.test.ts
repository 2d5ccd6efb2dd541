import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';

const APP = 'http://localhost:5173';
let invocations = 0;
let withCors: FunctionUrl;
let withoutCors: FunctionUrl;

beforeAll(async () => {
  const handler = async () => {
    invocations += 1;
    return { statusCode: 200, headers: { 'x-conversation-id': 'c-1' }, body: 'ok' };
  };
  withCors = await startFunctionUrl({
    functionName: 'chat',
    timeoutMs: 10_000,
    handler,
    cors: {
      allowOrigins: [APP],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['authorization', 'content-type'],
      exposeHeaders: ['x-conversation-id'],
      maxAgeSeconds: 600,
    },
  });
  withoutCors = await startFunctionUrl({ functionName: 'chat', timeoutMs: 10_000, handler });
});
afterAll(async () => {
  await withCors.close();
  await withoutCors.close();
});

const preflight = (url: string, origin: string) =>
  fetch(`${url}/v1/chat`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    },
  });

describe('function URL CORS', () => {
  it('answers a preflight from an allowed origin itself, without invoking the function', async () => {
    const before = invocations;
    const response = await preflight(withCors.url, APP);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(invocations).toBe(before);
  });

  it('gives a preflight from another origin no CORS headers', async () => {
    const response = await preflight(withCors.url, 'https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds the allowed origin and exposed headers to actual responses', async () => {
    const response = await fetch(withCors.url, { headers: { origin: APP } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toBe('x-conversation-id');
    expect(await response.text()).toBe('ok');
  });

  it('passes OPTIONS to the function when no CORS is configured', async () => {
    const before = invocations;
    const response = await preflight(withoutCors.url, APP);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(invocations).toBe(before + 1);
  });
});
