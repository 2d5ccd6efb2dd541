import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const REQUESTS = 12_000;
const CONCURRENCY = 8;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Outcome {
  request: FuzzRequest;
  status?: number;
  error?: string;
  body: string;
}

const secret = new TextEncoder().encode(LOCAL_STACK.jwtSecret);
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(secret);

/** Path segments an attacker might send: valid ids, junk, broken percent-encoding, unicode. */
const segment = fc.oneof(
  fc.constant(`conv_${'0'.repeat(32)}`),
  fc.constant(`job_${'a'.repeat(32)}`),
  fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%00', '..', '%2F..%2F', '%F0%9F%98%80', 'a%20b'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ maxLength: 300 }).map(encodeURIComponent),
);

/** Every documented route (docs/openapi.json, kept current by a test) and some that are not. */
const ROUTE_TEMPLATES = [
  ...Object.keys(
    (JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as { paths: Record<string, unknown> })
      .paths,
  ).map((template) => template.replaceAll(/\{[^}]+\}/g, '{x}')),
  '/v1/{x}',
  '/{x}/{x}',
];

const path = fc
  .tuple(
    fc.constantFrom(...ROUTE_TEMPLATES),
    segment,
    fc.oneof(
      fc.constant(''),
      fc.constantFrom('?limit=0', '?limit=101', '?limit=abc', '?limit=5&cursor=abc', '?cursor='),
      fc.string({ maxLength: 80 }).map((text) => `?cursor=${encodeURIComponent(text)}`),
      fc.base64String({ maxLength: 200 }).map((text) => `?cursor=${encodeURIComponent(text)}`),
    ),
  )
  .map(([template, x, query]) => template.replaceAll('{x}', x) + query);

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        message: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.jsonValue()),
        conversationId: fc.oneof(fc.string(), fc.constant(`conv_${'0'.repeat(32)}`), fc.integer()),
        model: fc.oneof(fc.string(), fc.constantFrom('claude-sonnet-4-6', 'gpt-4')),
        maxTokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
        system: fc.string({ maxLength: 50 }),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .record({
      type: fc.constantFrom('summarize', 'other'),
      text: fc.string({ unit: 'grapheme', maxLength: 300 }),
      model: fc.constantFrom('claude-haiku-4-5', 'nope'),
    })
    .map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 500 }),
  // Bytes that are not UTF-8 at all.
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

describe('every route under fuzzed requests', () => {
  let stack: TestStack;
  let tokens: string[];
  beforeAll(async () => {
    stack = await startTestStack();
    tokens = [
      `Bearer ${await stack.token('fuzz-1')}`,
      `Bearer ${await stack.token('fuzz-2')}`,
      `Bearer ${await stack.token('fuzz-admin', { admin: true })}`,
      'Bearer not.a.jwt',
      'Basic Zm9vOmJhcg==',
      `Bearer ${await sign({ sub: ['fuzz-1'] })}`,
      `Bearer ${await sign({ sub: { id: 1 } })}`,
      `Bearer ${await sign({ sub: 'x'.repeat(200) })}`,
    ];
  });
  afterAll(() => stack.close());

  it(`answers ${REQUESTS} requests to every route with no 5xx, no reset and no U+FFFD it was not sent`, async () => {
    const requests = fc.sample(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'),
        path,
        token: fc.option(fc.nat(tokens.length - 1), { nil: undefined }),
        contentType: fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'multipart/form-data; boundary=x',
          undefined,
        ),
        body,
      }),
      { numRuns: REQUESTS, seed: 20261129 },
    );
    const url = new URL(stack.url);
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const generated = requests[next++]!;
        const fuzzRequest: FuzzRequest = {
          method: generated.method,
          path: generated.path,
          headers: {
            ...(generated.token !== undefined && { authorization: tokens[generated.token]! }),
            ...(generated.contentType && { 'content-type': generated.contentType }),
          },
          ...(generated.body !== undefined && { body: Buffer.from(generated.body, 'utf8') }),
        };
        outcomes.push(await send(url, fuzzRequest));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const failures = outcomes.filter(
      (outcome) =>
        outcome.error !== undefined ||
        (outcome.status ?? 500) >= 500 ||
        (outcome.body.includes('\uFFFD') &&
          !(outcome.request.body?.toString('utf8') ?? '').includes('\uFFFD') &&
          !outcome.request.path.includes('%EF%BF%BD')),
    );
    expect(outcomes).toHaveLength(REQUESTS);
    expect(
      failures.slice(0, 5).map((failure) => ({
        status: failure.status,
        error: failure.error,
        method: failure.request.method,
        path: failure.request.path,
        body: failure.request.body?.toString('utf8').slice(0, 200),
        response: failure.body.slice(0, 300),
      })),
    ).toEqual([]);
    // The fuzz reached every kind of answer, not just one.
    const statuses = new Set(outcomes.map((outcome) => outcome.status));
    for (const status of [200, 400, 401, 404, 405]) expect(statuses).toContain(status);
  }, 300_000);
});

function send(url: URL, fuzz: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: fuzz.method,
        path: fuzz.path,
        headers: {
          ...fuzz.headers,
          ...(fuzz.body && { 'content-length': String(fuzz.body.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            request: fuzz,
            status: res.statusCode ?? 0,
            // Invalid UTF-8 decodes to U+FFFD too, so it is caught with the rest.
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => resolve({ request: fuzz, error: String(error), body: '' }));
      },
    );
    req.on('error', (error) => resolve({ request: fuzz, error: String(error), body: '' }));
    req.end(fuzz.body);
  });
}
