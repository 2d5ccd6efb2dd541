import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Router } from '@aws-lambda-powertools/event-handler/http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticate, requireAdmin } from '../../../../../functions/chat/http/authenticate.js';
import type { ChatEnv } from '../../../../../functions/chat/http/chat-router.js';
import { errorHandler } from '../../../../../functions/chat/http/error-response.js';
import { json } from '../../../../../functions/chat/http/json-response.js';
import { requestScope } from '../../../../../functions/chat/http/request-scope.js';
import { defineRoute, registerRoutes } from '../../../../../functions/chat/http/route.js';
import { sseResponse } from '../../../../../functions/chat/http/sse-response.js';
import { PageQuerySchema } from '../../../../../functions/chat/request-schemas.js';
import { createLambdaContext } from '../../../../../local-stack/lambda-runtime/context.js';
import { buildFunctionUrlEvent } from '../../../../../local-stack/lambda-runtime/function-url-event.js';
import { createApiKeyAuthenticator } from '../../../../../shared/auth/api-key-authenticator.js';
import { createCredentialVerifier } from '../../../../../shared/auth/credentials.js';
import { hs256Verifier } from '../../../../../shared/auth/token-verifier.js';
import * as z from '../../../../../shared/validation/zod.js';
import { InMemoryApiKeyStore } from '../../../../fakes/in-memory-api-key-store.js';

const SECRET = 'a-test-signing-secret-of-enough-length';
const logger = new Logger({ serviceName: 'route-test', logLevel: 'SILENT' });

/** The thing ids whose stream was produced (`GET /v1/things/:id/stream`). */
const streamsProduced: string[] = [];

/**
 * A few routes like the chat API's: one public, one with `:id`, one with a body, one with a
 * query, one streaming, one POST alone on its path.
 */
function createApp() {
  const app = new Router<ChatEnv>({ logger });
  app.use(
    requestScope({
      logger,
      createMetrics: () => new Metrics({ namespace: 'RouteTest', serviceName: 'route-test' }),
    }),
  );
  registerRoutes(
    app,
    [
      defineRoute({
        method: 'GET',
        path: '/health',
        access: 'public',
        handle: async ({ principal }) => json(200, { status: 'ok', caller: principal.userId }),
      }),
      defineRoute({
        method: 'GET',
        path: '/v1/things/:id',
        handle: async ({ params, principal }) =>
          json(200, { id: params.id, owner: principal.userId }),
      }),
      defineRoute({
        method: 'DELETE',
        path: '/v1/things/:id',
        handle: async () => json(204),
      }),
      defineRoute({
        method: 'POST',
        path: '/v1/things',
        body: z.strictObject({
          name: z.string().check(z.minLength(1)),
          count: z.optional(z.int().check(z.positive())),
        }),
        handle: async ({ body }) => json(201, body),
      }),
      defineRoute({
        method: 'GET',
        path: '/v1/things',
        query: PageQuerySchema,
        handle: async ({ query }) => json(200, { things: [], limit: query.limit }),
      }),
      defineRoute({
        method: 'GET',
        path: '/v1/things/:id/stream',
        handle: async ({ params, scope }) =>
          sseResponse(
            scope,
            async (write) => {
              streamsProduced.push(params.id ?? '');
              write('event: done\ndata: {}\n\n');
            },
            { pingIntervalMs: 60_000, headers: { 'x-thing': params.id ?? '' } },
          ),
      }),
      defineRoute({
        method: 'POST',
        path: '/v1/things/:id/polish',
        handle: async () => json(202),
      }),
    ],
    {
      authenticate: authenticate(
        createCredentialVerifier({
          tokens: hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => SECRET }),
          apiKeys: createApiKeyAuthenticator({
            store: new InMemoryApiKeyStore(),
            clock: Date.now,
            onTouchFailed: () => {},
          }),
        }),
        { tokenHeader: 'authorization', adminIamPrincipals: [] },
      ),
      requireAdmin,
    },
  );
  app.errorHandler(Error, errorHandler(logger));
  return app;
}

/** A JSON body: ours, or the error body every error answers with. */
interface ResponseBody {
  type?: string;
  error?: { type: string; message: string };
  requestId?: string;
  [key: string]: unknown;
}

interface Call {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends a function URL (payload format 2.0) event through the app, as the buffered runtime would. */
async function send(app: Router<ChatEnv>, call: Call) {
  const rawHeaders = Object.entries({
    host: 'abc.lambda-url.us-east-1.on.aws',
    ...call.headers,
  }).flat();
  const event = buildFunctionUrlEvent(
    {
      method: call.method,
      url: call.url,
      rawHeaders,
      body: Buffer.from(call.body ?? ''),
      sourceIp: '203.0.113.7',
      port: 443,
      protocol: 'HTTP/1.1',
    },
    { urlId: 'abc', requestId: randomUUID(), receivedAt: new Date() },
  );
  const context = createLambdaContext({ functionName: 'chat', timeoutMs: 30_000 });
  const result = await app.resolve(event, context);
  const headers = result.headers as Record<string, string>;
  const text = result.body ?? '';
  return {
    status: result.statusCode!,
    headers,
    text,
    body:
      text && headers['content-type']?.includes('json')
        ? (JSON.parse(text) as ResponseBody)
        : undefined,
    awsRequestId: context.awsRequestId,
  };
}

describe('routes registered with registerRoutes on Event Handler', () => {
  const app = createApp();
  let bearer: Record<string, string>;

  beforeAll(async () => {
    const token = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    bearer = { authorization: `Bearer ${token}` };
  });

  it('finds a route and gives it its decoded path parameters and the caller', async () => {
    const response = await send(app, { method: 'GET', url: '/v1/things/a%20b', headers: bearer });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: 'a b', owner: 'user-1' });
  });

  it('ignores a trailing slash', async () => {
    const response = await send(app, { method: 'GET', url: '/v1/things/t1/', headers: bearer });
    expect(response.status).toBe(200);
    expect(response.body?.id).toBe('t1');
  });

  it("answers an unknown path with 404 not_found_error naming it, and the routes of Anthropic's API served", async () => {
    const response = await send(app, { method: 'GET', url: '/v2/nothing?x=1', headers: bearer });
    expect(response.status).toBe(404);
    expect(response.body?.error?.type).toBe('not_found_error');
    expect(response.body?.error?.message).toMatch(
      /^GET \/v2\/nothing is not served here; of Anthropic's API, only POST \/v1\/messages, /,
    );
  });

  it("names Anthropic's routes served only for a path of Anthropic's API, not for one of ours mistyped", async () => {
    const batches = await send(app, {
      method: 'GET',
      url: '/v1/messages/batches',
      headers: bearer,
    });
    expect(batches.body?.error?.message).toContain("of Anthropic's API, only POST /v1/messages");
    const ours = await send(app, { method: 'GET', url: '/v1/conversation', headers: bearer });
    expect(ours.status).toBe(404);
    expect(ours.body?.error?.message).toBe(
      'GET /v1/conversation is not served here (GET /openapi.json lists every route)',
    );
  });

  it.each([
    ['PUT', '/v1/things/t1', 'GET, HEAD, DELETE'],
    ['PATCH', '/v1/things', 'POST, GET, HEAD'],
    ['POST', '/health', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, url, allow) => {
    const response = await send(app, { method, url, headers: bearer });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.body?.type).toBe('error');
    expect(response.body?.error?.type).toBe('invalid_request_error');
    expect(response.body?.error?.message).toContain(allow);
  });

  it('answers the wrong method with 405 before asking for a token', async () => {
    const response = await send(app, { method: 'PUT', url: '/v1/things/t1' });
    expect(response.status).toBe(405);
  });

  it.each([
    ['/v1/things/t1', 'GET, HEAD, DELETE'],
    ['/v1/things', 'POST, GET, HEAD'],
  ])('answers OPTIONS %s with 204 and Allow: %s', async (url, allow) => {
    const response = await send(app, { method: 'OPTIONS', url });
    expect(response.status).toBe(204);
    expect(response.headers.allow).toBe(allow);
    expect(response.body).toBeUndefined();
  });

  it('rejects a missing token on a route that is not public with 401 and a bare Bearer challenge', async () => {
    const response = await send(app, { method: 'GET', url: '/v1/things/t1' });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(response.body?.error?.type).toBe('authentication_error');
  });

  it('rejects a refused token with 401 and invalid_token', async () => {
    const response = await send(app, {
      method: 'GET',
      url: '/v1/things/t1',
      headers: { authorization: 'Bearer not.a.jwt' },
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('checks the token before validating the body', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { 'content-type': 'application/json' },
      body: '{"name": 5}',
    });
    expect(response.status).toBe(401);
  });

  it('lets anyone call a public route, with or without a token', async () => {
    for (const headers of [{}, { authorization: 'Bearer not.a.jwt' }] as Record<string, string>[]) {
      const response = await send(app, { method: 'GET', url: '/health', headers });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', caller: 'anonymous' });
    }
  });

  it('names every response by the Lambda request id, in x-request-id and in an error body', async () => {
    const calls: Call[] = [
      { method: 'GET', url: '/health' },
      { method: 'GET', url: '/v1/things/t1', headers: bearer },
      { method: 'DELETE', url: '/v1/things/t1', headers: bearer },
      { method: 'OPTIONS', url: '/v1/things' },
      { method: 'GET', url: '/nowhere' },
      { method: 'PUT', url: '/v1/things/t1' },
      { method: 'GET', url: '/v1/things/t1' },
      { method: 'GET', url: '/v1/things/%ZZ', headers: bearer },
      {
        method: 'POST',
        url: '/v1/things',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: '{',
      },
    ];
    for (const call of calls) {
      const response = await send(app, call);
      expect(response.headers['x-request-id'], `${call.method} ${call.url}`).toBe(
        response.awsRequestId,
      );
      if (response.status >= 400) expect(response.body?.requestId).toBe(response.awsRequestId);
    }
  });

  it('answers malformed percent-encoding in a path parameter with 400, not 500', async () => {
    const response = await send(app, { method: 'GET', url: '/v1/things/%ZZ', headers: bearer });
    expect(response.status).toBe(400);
    expect(response.body?.error).toEqual({
      type: 'invalid_request_error',
      message: 'the request path is not valid',
    });
  });

  it('answers a blank path parameter with 400', async () => {
    const response = await send(app, { method: 'GET', url: '/v1/things/%20', headers: bearer });
    expect(response.status).toBe(400);
    expect(response.body?.error?.type).toBe('invalid_request_error');
  });

  it('hands the handler a body that passed its schema', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"name":"lamp","count":2}',
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ name: 'lamp', count: 2 });
  });

  it('answers a body failing its schema with 400 invalid_request_error naming the field', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"name":"lamp","count":-1}',
    });
    expect(response.status).toBe(400);
    expect(response.body?.error?.type).toBe('invalid_request_error');
    expect(response.body?.error?.message).toMatch(/^count: /);
  });

  it('answers an unknown field with 400 naming it', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"name":"lamp","colour":"red"}',
    });
    expect(response.status).toBe(400);
    expect(response.body?.error?.message).toContain('colour');
  });

  it('answers a body that is not JSON with 400', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect(response.body?.error).toEqual({
      type: 'invalid_request_error',
      message: 'the request body must be JSON',
    });
  });

  it('answers a JSON body sent without content-type: application/json with 400 saying so', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: bearer,
      body: '{"name":"lamp"}',
    });
    expect(response.status).toBe(400);
    expect(response.body?.error?.message).toMatch(/content-type: application\/json/);
  });

  it('answers HEAD on a GET route with the status and headers of its GET, and no body', async () => {
    const get = await send(app, { method: 'GET', url: '/v1/things/t1', headers: bearer });
    const head = await send(app, { method: 'HEAD', url: '/v1/things/t1', headers: bearer });

    expect(get.text).not.toBe('');
    expect(head.status).toBe(get.status);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['x-request-id']).toBe(head.awsRequestId);
    expect(head.text).toBe('');
  });

  it.each([
    ['a missing token', '/v1/things/t1', {}, 401, 'www-authenticate', 'Bearer realm="api"'],
    ['an unknown path', '/nowhere', {}, 404, 'content-type', 'application/json'],
    ['a path only POST takes', '/v1/things/t1/polish', {}, 405, 'allow', 'POST'],
    [
      'a query its GET refuses',
      '/v1/things?limit=500',
      'bearer',
      400,
      'content-type',
      'application/json',
    ],
  ] as const)(
    'answers a HEAD with %s as its GET would be answered, without the error body',
    async (_, url, credentials, status, header, value) => {
      const headers = credentials === 'bearer' ? bearer : credentials;
      const response = await send(app, { method: 'HEAD', url, headers });

      expect(response.status).toBe(status);
      expect(response.headers[header]).toBe(value);
      expect(response.text).toBe('');
    },
  );

  it("answers HEAD on a streaming GET route with the stream's status and headers, never producing it", async () => {
    const before = streamsProduced.length;
    const head = await send(app, { method: 'HEAD', url: '/v1/things/t2/stream', headers: bearer });
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.headers['x-thing']).toBe('t2');
    expect(head.text).toBe('');
    expect(streamsProduced).toHaveLength(before);

    const get = await send(app, { method: 'GET', url: '/v1/things/t3/stream', headers: bearer });
    expect(get.text).toContain('event: done');
    expect(streamsProduced.slice(before)).toEqual(['t3']);
  });

  it.each(['gzip', 'br', 'deflate', 'GZIP', 'identity, gzip'])(
    'refuses a body with content-encoding: %s with 415 and Accept-Encoding: identity, before asking for a token',
    async (coding) => {
      const response = await send(app, {
        method: 'POST',
        url: '/v1/things',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body: gzipSync('{"name":"lamp"}'),
      });

      expect(response.status).toBe(415);
      expect(response.headers['accept-encoding']).toBe('identity');
      expect(response.body?.error).toEqual({
        type: 'invalid_request_error',
        message: `the request body is encoded (content-encoding: ${coding}); send it unencoded, as application/json`,
      });
      expect(response.body?.requestId).toBe(response.awsRequestId);
    },
  );

  it('reads a body whose content-encoding is identity as it reads one without', async () => {
    const response = await send(app, {
      method: 'POST',
      url: '/v1/things',
      headers: { ...bearer, 'content-type': 'application/json', 'content-encoding': 'identity' },
      body: '{"name":"lamp"}',
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ name: 'lamp' });
  });

  it('validates the query string, naming the parameter', async () => {
    const ok = await send(app, { method: 'GET', url: '/v1/things?limit=5', headers: bearer });
    expect(ok.body).toEqual({ things: [], limit: 5 });
    const bad = await send(app, { method: 'GET', url: '/v1/things?limit=500', headers: bearer });
    expect(bad.status).toBe(400);
    expect(bad.body?.error?.message).toMatch(/^limit: /);
  });
});
