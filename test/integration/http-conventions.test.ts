import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request fetch() would refuse to send (a GET with a body, odd paths). */
function raw(
  stack: TestStack,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...options.headers,
          ...(options.body && { 'content-length': String(Buffer.byteLength(options.body)) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTP conventions of the function URL', () => {
  let stack: TestStack;
  let auth: Record<string, string>;
  beforeAll(async () => {
    stack = await startTestStack();
    auth = { authorization: `Bearer ${await stack.token('conventions')}` };
  });
  afterAll(() => stack.close());

  it('ignores the body of a GET instead of failing the invocation', async () => {
    const response = await raw(stack, 'GET', '/v1/usage', {
      body: '{"ignored":true}',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ requests: 0 });
  });

  it('answers malformed percent-encoding in a path with 400, before and after authentication', async () => {
    for (const headers of [auth, {}]) {
      const response = await raw(stack, 'GET', '/v1/conversations/%ZZ', { headers });
      expect(response.status).toBe(400);
      const body = JSON.parse(response.text);
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.requestId).toBe(response.headers['x-request-id']);
    }
  });

  it('says how to send the body when it is not declared as JSON', async () => {
    const claudeCalls = stack.claude.requests.length;
    const response = await raw(stack, 'POST', '/v1/chat', {
      body: '{"message":"hi"}',
      headers: auth,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error.message).toMatch(/content-type: application\/json/);
    expect(stack.claude.requests).toHaveLength(claudeCalls);
  });

  it('reads a JSON body whatever the case of its media type, as media types are', async () => {
    const before = stack.claude.requests.length;
    const response = await raw(stack, 'POST', '/v1/chat', {
      body: '{"message":"hi"}',
      headers: { ...auth, 'content-type': 'Application/JSON; charset=UTF-8' },
    });
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/^event: done$/m);
    expect(stack.claude.requests).toHaveLength(before + 1);
  });

  it('refuses a query parameter given twice with 400, naming it, and ignores unknown ones', async () => {
    const twice = await raw(stack, 'GET', '/v1/jobs?status=failed&status=succeeded&limit=2', {
      headers: auth,
    });
    const unknownTwice = await raw(stack, 'GET', '/v1/conversations?x=1&x=2&limit=1', {
      headers: auth,
    });

    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.text).error).toEqual({
      type: 'invalid_request_error',
      message: 'status: given more than once; give one value',
    });
    expect(unknownTwice.status).toBe(200);
  });

  it('names the invalid field of a body', async () => {
    const response = await raw(stack, 'POST', '/v1/chat', {
      body: '{"message":"hi","maxTokens":-3}',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error.message).toMatch(/^maxTokens: /);
  });

  it('refuses a body nested too deep to walk with 400, on every route that takes one', async () => {
    const claudeCalls = stack.claude.requests.length;
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const bodies: Array<[string, string]> = [
      [
        '/v1/messages',
        `{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi","x":${deep(5_000)}}]}]}`,
      ],
      [
        '/v1/messages/count_tokens',
        `{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"x":${deep(5_000)}}`,
      ],
      ['/v1/chat', `{"message":"hi","x":${deep(5_000)}}`],
      ['/v1/ui/chat', `{"id":"c","messages":${deep(5_000)}}`],
      ['/v1/jobs', `{"type":"summarize","text":"hi","x":${deep(5_000)}}`],
    ];
    for (const [path, body] of bodies) {
      const response = await raw(stack, 'POST', path, {
        body,
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(response.status, path).toBe(400);
      expect(JSON.parse(response.text).error.message, path).toMatch(/nested more than 128 levels/);
    }
    expect(stack.claude.requests).toHaveLength(claudeCalls);
  });

  it('refuses a body with an object of more than 10,000 members with 400, on every route that takes one', async () => {
    const claudeCalls = stack.claude.requests.length;
    const wide = `{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":0`).join(',')}}`;
    const bodies: Array<[string, string]> = [
      [
        '/v1/messages',
        `{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi","x":${wide}}]}`,
      ],
      [
        '/v1/messages/count_tokens',
        `{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"x":${wide}}`,
      ],
      ['/v1/chat', `{"message":"hi","x":${wide}}`],
      ['/v1/ui/chat', `{"id":"c","messages":[${wide}]}`],
      ['/v1/jobs', `{"type":"summarize","text":"hi","x":${wide}}`],
    ];
    for (const [path, body] of bodies) {
      const response = await raw(stack, 'POST', path, {
        body,
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(response.status, path).toBe(400);
      expect(JSON.parse(response.text).error.message, path).toMatch(
        /object with more than 10000 members/,
      );
    }
    expect(stack.claude.requests).toHaveLength(claudeCalls);
  });

  it('answers HEAD on every kind of GET route with the status and headers of its GET, and no body', async () => {
    const paths: Array<[string, Record<string, string>]> = [
      ['/health', {}],
      ['/openapi.json', {}],
      ['/v1/conversations', auth],
      ['/v1/usage', auth],
      [`/v1/conversations/conv_${'0'.repeat(32)}/stream`, auth],
      ['/v1/conversations', {}],
    ];
    for (const [path, headers] of paths) {
      const get = await raw(stack, 'GET', path, { headers });
      const head = await raw(stack, 'HEAD', path, { headers });

      expect(head.status, path).toBe(get.status);
      expect(head.headers['content-type'], path).toBe(get.headers['content-type']);
      expect(head.headers['www-authenticate'], path).toBe(get.headers['www-authenticate']);
      expect(head.headers['cache-control'], path).toBe(get.headers['cache-control']);
      expect(get.text, path).not.toBe('');
      expect(head.text, path).toBe('');
    }
  });

  it("answers HEAD on the stream of a turn still answering at once, with the stream's headers", async () => {
    const chat = await fetch(`${stack.url}/v1/chat`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'A slow story [[local-claude: tokens=40 tps=10]]' }),
    });
    const events = readSse(chat);
    const { value: start } = await events.next();
    const conversationId = String(start?.data.conversationId);

    const sentAt = Date.now();
    const head = await raw(stack, 'HEAD', `/v1/conversations/${conversationId}/stream`, {
      headers: auth,
    });
    const tookMs = Date.now() - sentAt;
    let end = start;
    for await (const event of events) end = event;

    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.text).toBe('');
    // The answer takes 4 s: a HEAD that followed it would end with it.
    expect(tookMs).toBeLessThan(2_000);
    expect(end?.event).toBe('done');
  });

  it('refuses a compressed body with 415 and Accept-Encoding: identity, in the error shape of the route, before any other work', async () => {
    const claudeCalls = stack.claude.requests.length;
    const bodies: Array<[string, string]> = [
      ['/v1/chat', '{"message":"hi"}'],
      [
        '/v1/messages',
        '{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}',
      ],
    ];
    for (const [path, body] of bodies) {
      for (const headers of [auth, {}]) {
        const response = await raw(stack, 'POST', path, {
          body: gzipSync(body),
          headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        });

        expect(response.status, path).toBe(415);
        expect(response.headers['accept-encoding'], path).toBe('identity');
        const error = JSON.parse(response.text);
        expect(error).toMatchObject({
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: expect.stringMatching(/content-encoding: gzip/),
          },
          request_id: response.headers['request-id'],
        });
      }
    }
    expect(stack.claude.requests).toHaveLength(claudeCalls);
  });

  it('answers a method no route knows with 405, as JSON, with the methods the path takes', async () => {
    for (const method of ['PROPFIND', 'TRACE']) {
      const response = await raw(stack, method, '/v1/chat', { headers: auth });

      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('POST');
      expect(response.headers['x-request-id']).toBeTruthy();
      expect(JSON.parse(response.text).error).toEqual({
        type: 'invalid_request_error',
        message: `${method} is not allowed on /v1/chat; use POST`,
      });
    }
  });
});
