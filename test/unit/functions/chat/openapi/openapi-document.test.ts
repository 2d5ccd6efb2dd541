import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Router } from '@aws-lambda-powertools/event-handler/http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registeredRoutes } from '../../../../../functions/chat/http/route.js';
import type { OpenApiDocument } from '../../../../../functions/chat/openapi/document.js';
import { createLambdaContext } from '../../../../../local-stack/lambda-runtime/context.js';
import { buildFunctionUrlEvent } from '../../../../../local-stack/lambda-runtime/function-url-event.js';
import {
  documentedChatApp,
  openApiDocument,
  openApiJson,
} from '../../../../../scripts/generate-openapi.js';
import { openApiValidator } from '../../../../support/openapi.js';

const COMMITTED = new URL('../../../../../docs/openapi.json', import.meta.url);

async function send(app: ReturnType<typeof documentedChatApp>, method: string, url: string) {
  const event = buildFunctionUrlEvent(
    {
      method,
      url,
      rawHeaders: ['host', 'abc.lambda-url.us-east-1.on.aws'],
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.7',
      port: 443,
      protocol: 'HTTP/1.1',
    },
    { urlId: 'abc', requestId: randomUUID(), receivedAt: new Date() },
  );
  const response = await app.resolve(
    event,
    createLambdaContext({ functionName: 'chat', timeoutMs: 30_000 }),
  );
  return { status: response.statusCode, body: JSON.parse(response.body ?? 'null') };
}

const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );

describe('the OpenAPI document', () => {
  afterEach(() => vi.restoreAllMocks());

  it('lists every route createChatApp registers on the router, with its method', () => {
    const route = vi.spyOn(Router.prototype, 'route');
    documentedChatApp();
    // The 405 answers of each path are registered with every other method, OPTIONS among
    // them: not operations. HEAD comes with each GET, answered as it: not one of its own.
    const registered = route.mock.calls
      .map(([, options]) => ({ methods: [options.method].flat(), path: options.path }))
      .filter(({ methods }) => !methods.includes('OPTIONS'))
      .flatMap(({ methods, path }) =>
        methods.map((method) => `${method} ${String(path).replace(/:(\w+)/g, '{$1}')}`),
      );
    const gets = registered.filter((operation) => operation.startsWith('GET '));

    expect(registered.length).toBeGreaterThan(20);
    expect(operationsOf(openApiDocument()).sort()).toEqual(
      [...new Set(registered.filter((operation) => !operation.startsWith('HEAD ')))].sort(),
    );
    expect(registered.filter((operation) => operation.startsWith('HEAD '))).toEqual(
      gets.map((operation) => operation.replace(/^GET/, 'HEAD')),
    );
  });

  it('has each route say what it does and answers (its docs)', () => {
    const undocumented = registeredRoutes(documentedChatApp())
      .filter((route) => !route.docs?.responses)
      .map((route) => `${route.method} ${route.path}`);

    expect(undocumented).toEqual([]);
  });

  it('gives every operation a unique operationId', () => {
    const ids = Object.values(openApiDocument().paths).flatMap((operations) =>
      Object.values(operations).map((operation) => operation.operationId),
    );

    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents the lifecycle filter GET /v1/models reads, repeated as the Anthropic SDK sends it (a generated client had no parameter for it)', () => {
    const parameters = openApiDocument().paths['/v1/models']?.get?.parameters as Array<{
      name: string;
    }>;

    expect(parameters.find((parameter) => parameter.name === 'lifecycle[]')).toMatchObject({
      in: 'query',
      required: false,
      style: 'form',
      explode: true,
      schema: { type: 'array', items: { enum: ['active', 'deprecated', 'retired'] } },
    });
  });

  it('names in its description every route that needs no credential, and only those', () => {
    const document = openApiDocument();
    const publicOperations = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => (operation as { security?: unknown[] }).security?.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const sentence = /Every route but (.*?) needs a credential/.exec(
      String(document.info.description),
    )?.[1];
    const named = [...(sentence ?? '').matchAll(/`([A-Z]+ \/[^`]*)`/g)].map((m) => m[1]!);

    expect(publicOperations.length).toBeGreaterThan(2);
    expect(named.sort()).toEqual(publicOperations.sort());
  });

  it('is published as docs/openapi.json, up to date (run npm run docs)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(openApiJson());
  });

  it('is served at GET /openapi.json without a credential, naming the URL it was fetched from', async () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as OpenApiDocument;

    const { status, body } = await send(documentedChatApp(), 'GET', '/openapi.json');

    expect(status).toBe(200);
    // The scheme is x-forwarded-proto's: https on AWS, http from the local function URL.
    expect(body.servers).toEqual([{ url: 'http://abc.lambda-url.us-east-1.on.aws' }]);
    expect({ ...body, servers: committed.servers }).toEqual(committed);
  });

  it('describes the error bodies the app really sends (401, 404, 405)', async () => {
    const validator = openApiValidator(openApiDocument());
    const app = documentedChatApp();

    const answers = [
      await send(app, 'GET', '/v1/usage'),
      await send(app, 'GET', '/no/such/route'),
      await send(app, 'PATCH', '/v1/usage'),
    ];

    expect(answers.map(({ status }) => status)).toEqual([401, 404, 405]);
    for (const { body } of answers) expect(validator.error(body)).toEqual([]);
  });

  it('catches a body that does not match it', () => {
    const validator = openApiValidator(openApiDocument());

    expect(validator.error({ type: 'error', error: { type: 'oops', message: 'x' } })).not.toEqual(
      [],
    );
    expect(
      validator.event('POST', '/v1/chat', { type: 'delta', text: 'hi', extra: true }),
    ).not.toEqual([]);
    expect(validator.event('POST', '/v1/chat', { type: 'delta', text: 'hi' })).toEqual([]);
  });
});
