import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** What a browser, or a CDN or proxy in front of the function URL, reads off a response. */
describe('response headers a cache or a browser reads', () => {
  let stack: TestStack;
  let user: Record<string, string>;
  let admin: Record<string, string>;
  beforeAll(async () => {
    stack = await startTestStack();
    user = { authorization: `Bearer ${await stack.token('headers-user')}` };
    admin = { authorization: `Bearer ${await stack.token('headers-admin', { admin: true })}` };
  });
  afterAll(() => stack.close());

  const call = async (method: string, path: string, headers = {}, body?: unknown) => {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    await response.arrayBuffer();
    return response;
  };

  it('lets no cache keep a private answer, an API key shown once or an error', async () => {
    const responses = {
      'a new API key': await call('POST', '/v1/admin/keys', admin, { principal: 'cached' }),
      'the API keys': await call('GET', '/v1/admin/keys', admin),
      'the month': await call('GET', '/v1/usage', user),
      conversations: await call('GET', '/v1/conversations', user),
      jobs: await call('GET', '/v1/jobs', user),
      models: await call('GET', '/v1/models', user),
      'a 401': await call('GET', '/v1/usage'),
      'a 404': await call('GET', '/v1/conversations/conv_00000000000000000000000000000000', user),
      'an unknown route': await call('GET', '/v1/nowhere', user),
      'a 405': await call('DELETE', '/v1/usage', user),
    };

    expect(responses['a new API key'].status).toBe(201);
    for (const [what, response] of Object.entries(responses)) {
      expect(response.headers.get('cache-control'), what).toBe('no-store');
      expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
    }
  });

  it('keeps a stream uncached and unbuffered, and not sniffed', async () => {
    const response = await call('POST', '/v1/chat', user, { message: 'hi' });

    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps the playground page revalidated rather than unstored', async () => {
    const response = await call('GET', '/playground');

    expect(response.headers.get('cache-control')).toBe('no-cache');
  });
});
