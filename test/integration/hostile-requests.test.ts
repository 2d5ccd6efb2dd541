import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import { createApiKey } from './support/api-keys.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

interface Operation {
  method: string;
  /** OpenAPI template: `/v1/conversations/{id}`. */
  template: string;
  public: boolean;
  admin: boolean;
  query: string[];
  hasBody: boolean;
  /** Every status the API document says it may answer. */
  statuses: Set<number>;
}

interface HostileRequest {
  operation: Operation;
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        parameters?: Array<{ name: string; in: string }>;
        requestBody?: unknown;
        responses: Record<string, unknown>;
      }
    >
  >;
};

const DOCUMENT = JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as OpenApi;

/** Every documented operation, with what the document says of it. */
const OPERATIONS: Operation[] = Object.entries(DOCUMENT.paths).flatMap(([template, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    method: method.toUpperCase(),
    template,
    public: Array.isArray(operation.security) && operation.security.length === 0,
    admin: template.startsWith('/v1/admin/'),
    query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    hasBody: operation.requestBody !== undefined,
    statuses: new Set(Object.keys(operation.responses).map(Number)),
  })),
);

/** Path segments no id of ours looks like. */
const HOSTILE_SEGMENTS = [
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AE%C0%AE',
  'a%00b',
  'a%2Fb',
  '%20',
  '%0D%0A',
  '%F0%9F%98%80',
  'USER%23x',
  '%25',
  'x'.repeat(2_000),
  '%E2%82%AC'.repeat(300),
];

/** Query values of every wrong kind. */
const HOSTILE_QUERY_VALUES = [
  '%ZZ',
  '',
  '-1',
  '1e3',
  '0x10',
  '99999999999999999999',
  'NaN',
  'a%00b',
  'x'.repeat(3_000),
];

/** Bodies of every wrong kind, each with the content type it is sent with. */
const HOSTILE_BODIES: Array<[string, string | Buffer, string | undefined]> = [
  ['none', '', 'application/json'],
  ['blank', '   ', 'application/json'],
  ['not JSON', 'hello', 'application/json'],
  ['truncated JSON', '{"message":"hi"', 'application/json'],
  ['an array', '[{"message":"hi"}]', 'application/json'],
  ['a number', '42', 'application/json'],
  ['a string', '"hi"', 'application/json'],
  ['null', 'null', 'application/json'],
  [
    'numbers as strings',
    '{"maxTokens":"5","max_tokens":"5","monthlyBudgetUsd":"5"}',
    'application/json',
  ],
  [
    'enormous numbers',
    '{"maxTokens":1e400,"max_tokens":1e400,"monthlyBudgetUsd":1e400}',
    'application/json',
  ],
  [
    'a prototype key',
    '{"__proto__":{"admin":true},"constructor":{"prototype":{}}}',
    'application/json',
  ],
  ['duplicate keys', '{"model":1,"model":[],"message":{}}', 'application/json'],
  ['deeply nested', `{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, 'application/json'],
  ['a large junk field', JSON.stringify({ junk: 'x'.repeat(1_000_000) }), 'application/json'],
  [
    'bytes that are not UTF-8',
    Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    'application/json',
  ],
  ['no content type', '{"message":"hi"}', undefined],
  [
    'multipart',
    '--x\r\nContent-Disposition: form-data; name="m"\r\n\r\nhi\r\n--x--',
    'multipart/form-data; boundary=x',
  ],
  ['a form', 'message=hi', 'application/x-www-form-urlencoded'],
  ['text', '{"message":"hi"}', 'text/plain'],
];

const secret = new TextEncoder().encode(LOCAL_STACK.jwtSecret);
const sign = (claims: Record<string, unknown>, lifetime: string | null = '5m') => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  return (lifetime ? jwt.setExpirationTime(lifetime) : jwt).sign(secret);
};

describe('every route against hostile requests', () => {
  let stack: TestStack;
  let user: Record<string, string>;
  let admin: Record<string, string>;
  let hostileCredentials: Array<[string, Record<string, string>]>;
  /** Ids that exist, so that a request can get past the lookup. */
  let real: Record<string, string>;

  beforeAll(async () => {
    stack = await startTestStack();
    user = { authorization: `Bearer ${await stack.token('hostile-user')}` };
    admin = { authorization: `Bearer ${await stack.token('hostile-admin', { admin: true })}` };
    const live = await createApiKey(stack, { principal: 'hostile-key-owner' });
    const revoked = await createApiKey(stack, { principal: 'hostile-key-owner' });
    await fetch(`${stack.url}/v1/admin/keys/${revoked.id}`, { method: 'DELETE', headers: admin });
    const now = Math.floor(Date.now() / 1000);
    hostileCredentials = [
      ['no credential', {}],
      ['an empty Authorization', { authorization: '' }],
      ['a bare Bearer', { authorization: 'Bearer ' }],
      ['a Basic credential', { authorization: 'Basic Zm9vOmJhcg==' }],
      ['two bearer tokens', { authorization: `${user.authorization}, ${user.authorization}` }],
      [
        'an oversized token',
        { authorization: `Bearer ${'a'.repeat(6_000)}.${'b'.repeat(4_000)}.c` },
      ],
      ['a token whose sub is a number', { authorization: `Bearer ${await sign({ sub: 42 })}` }],
      [
        'a token whose sub is a list',
        { authorization: `Bearer ${await sign({ sub: ['hostile-user'] })}` },
      ],
      [
        'a token whose exp is a string',
        {
          authorization: `Bearer ${await sign({ sub: 'hostile-user', exp: String(now + 60) }, null)}`,
        },
      ],
      [
        'a token with no exp',
        { authorization: `Bearer ${await sign({ sub: 'hostile-user' }, null)}` },
      ],
      [
        'an expired token',
        { authorization: `Bearer ${await sign({ sub: 'hostile-user' }, '-1m')}` },
      ],
      [
        'a token not valid yet',
        { authorization: `Bearer ${await sign({ sub: 'hostile-user', nbf: now + 3_600 })}` },
      ],
      [
        'a token claiming an IAM principal',
        { authorization: `Bearer ${await sign({ sub: 'iam:arn:aws:iam::1:root' })}` },
      ],
      [
        'an unsigned token',
        {
          authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"hostile-user","exp":${now + 60}}`).toString('base64url')}.`,
        },
      ],
      // Valid, but another's: what they reach must be theirs, never hostile-user's.
      ['another user', { authorization: `Bearer ${await stack.token('hostile-neighbour')}` }],
      ['an API key of another principal', { 'x-api-key': live.key }],
      ['a revoked API key', { 'x-api-key': revoked.key }],
      ['a revoked API key as a bearer', { authorization: `Bearer ${revoked.key}` }],
      ['an unknown API key', { 'x-api-key': `csk_${'A'.repeat(43)}` }],
      ['two API keys', { 'x-api-key': `${live.key}, ${live.key}` }],
      ['an oversized API key', { 'x-api-key': `csk_${'a'.repeat(8_000)}` }],
    ];
    const chat = await stack.chat('hostile-user', { message: 'hello' });
    const conversationId = /"conversationId":"(conv_[0-9a-f]{32})"/.exec(await chat.text())![1]!;
    const job = await stack.request('hostile-user', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'a document',
    });
    real = {
      id: conversationId,
      jobId: ((await job.json()) as { jobId: string }).jobId,
      keyId: live.id,
      modelId: 'claude-sonnet-4-6',
      principal: 'hostile-user',
    };
  });
  afterAll(() => stack?.close());

  /** The operation's path with every parameter a real value, or `segment` in one of them. */
  const pathOf = (operation: Operation, hostile?: string) =>
    operation.template.replaceAll(/\{([^}]+)\}/g, (_, name: string) => {
      const value = operation.template.includes('/v1/jobs/') ? real.jobId! : real[name]!;
      return hostile ?? value;
    });

  const credentialsOf = (operation: Operation) => (operation.admin ? admin : user);

  function hostileRequests(): HostileRequest[] {
    const requests: HostileRequest[] = [];
    for (const operation of OPERATIONS) {
      const headers = credentialsOf(operation);
      const base = { operation, method: operation.method, headers };
      if (operation.template.includes('{')) {
        for (const segment of HOSTILE_SEGMENTS) {
          requests.push({
            ...base,
            what: `path segment ${segment.slice(0, 20)}`,
            path: pathOf(operation, segment),
          });
        }
      }
      for (const name of operation.query) {
        for (const value of HOSTILE_QUERY_VALUES) {
          requests.push({
            ...base,
            what: `?${name}=${value.slice(0, 20)}`,
            path: `${pathOf(operation)}?${name}=${value}`,
          });
        }
        requests.push({
          ...base,
          what: `?${name} twice`,
          path: `${pathOf(operation)}?${name}=1&${name}=2`,
        });
      }
      if (operation.method === 'GET') {
        // Only where it changes nothing: an unknown parameter is ignored, so it is served.
        requests.push({
          ...base,
          what: 'a query name badly encoded',
          path: `${pathOf(operation)}?%ZZ=1&a=%`,
        });
      }
      if (operation.hasBody) {
        for (const [what, body, contentType] of HOSTILE_BODIES) {
          requests.push({
            ...base,
            what: `a body: ${what}`,
            path: pathOf(operation),
            headers: { ...headers, ...(contentType && { 'content-type': contentType }) },
            body: Buffer.from(body),
          });
        }
      }
      if (!operation.public) {
        for (const [what, credential] of hostileCredentials) {
          requests.push({ ...base, what, path: pathOf(operation), headers: credential });
        }
      }
    }
    return requests;
  }

  /** What the refused requests must leave as it was. */
  const state = async () => {
    const read = async (path: string, headers: Record<string, string>) =>
      (await fetch(`${stack.url}${path}`, { headers })).text();
    return {
      conversations: await read('/v1/conversations', user),
      conversation: await read(`/v1/conversations/${real.id}?include=superseded`, user),
      job: (await read(`/v1/jobs/${real.jobId}`, user)).replace(/,"updatedAt":"[^"]*"/, ''),
      key: (await read(`/v1/admin/keys/${real.keyId}`, admin)).replace(/,"lastUsedAt":"[^"]*"/, ''),
      keys: (await read('/v1/admin/keys?principal=hostile-key-owner', admin)).replaceAll(
        /,"lastUsedAt":"[^"]*"/g,
        '',
      ),
      budget: await read(`/v1/admin/principals/${real.principal}/budget`, admin),
      // Model calls; the model list (a GET) is read when the listing's cache is cold.
      modelCalls: stack.claude.requests.filter((call) => call.method === 'POST').length,
    };
  };

  it('answers every one with a documented 4xx in the error shape, never a 5xx, a hang or a reset, and changes nothing', async () => {
    const before = await state();
    const requests = hostileRequests();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const hostile = requests[next++]!;
        const label = `${hostile.method} ${hostile.operation.template} with ${hostile.what}`;
        const answer = await send(stack, hostile).catch((error: unknown) => error as Error);
        if (answer instanceof Error) {
          failures.push(`${label}: ${answer.message}`);
          continue;
        }
        const problem =
          problemWith(hostile, answer) ??
          (hostile.what.includes('another') &&
          answer.status < 300 &&
          (answer.text.includes(real.id!) || answer.text.includes(real.jobId!))
            ? `showed hostile-user's own: ${answer.text.slice(0, 200)}`
            : undefined);
        if (problem) failures.push(`${label}: ${problem}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    expect(requests.length).toBeGreaterThan(1_000);
    expect(failures).toEqual([]);
    expect(await state()).toEqual(before);
  }, 60_000);

  it('passes on the 404 of a model snapshot the Anthropic API does not know, a status the document gives', async () => {
    const model = 'claude-sonnet-4-6-20990101';
    const calls: Array<[string, Record<string, unknown>]> = [
      ['/v1/messages', { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/messages/count_tokens', { model, messages: [{ role: 'user', content: 'hi' }] }],
    ];
    for (const [path, body] of calls) {
      const response = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { ...user, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
        'not_found_error',
      );
      expect(Object.keys(DOCUMENT.paths[path]!.post!.responses), path).toContain('404');
    }
  });
});

/**
 * What is wrong with an answer: a 5xx, a status the API document does not give the
 * operation, or an error that is not in the error shape. The function URL's own answers
 * (a head too large, 431) and a 2xx to an input that is valid after all are fine.
 */
function problemWith(hostile: HostileRequest, answer: Answer): string | undefined {
  const { status } = answer;
  if (status >= 500) return `${status} ${answer.text.slice(0, 200)}`;
  if (status === 431) return undefined;
  if (!hostile.operation.statuses.has(status)) {
    return `${status}, which the API document does not list: ${answer.text.slice(0, 200)}`;
  }
  if (status < 400) return undefined;
  let body: { type?: unknown; error?: { type?: unknown; message?: unknown }; requestId?: unknown };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `${status} with a body that is not JSON: ${answer.text.slice(0, 200)}`;
  }
  if (
    body.type !== 'error' ||
    typeof body.error?.type !== 'string' ||
    typeof body.error.message !== 'string' ||
    body.requestId !== answer.headers['x-request-id']
  ) {
    return `${status} not in the error shape: ${answer.text.slice(0, 200)}`;
  }
  return undefined;
}

function send(stack: TestStack, hostile: HostileRequest): Promise<Answer> {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: hostile.method,
        path: hostile.path,
        headers: {
          ...hostile.headers,
          ...(hostile.body && { 'content-length': String(hostile.body.length) }),
        },
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end(hostile.body);
  });
}
