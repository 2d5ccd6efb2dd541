import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCommandIo, runAdminCommand } from '../../local-stack/admin-commands.js';
import { monthOf } from '../../shared/domain/budget.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OTHER_MODEL = 'claude-opus-4-6';

/** What one run printed, and the requests it made. */
interface Run {
  code: number;
  out: string;
  err: string;
  requests: string[];
  // biome-ignore lint/suspicious/noExplicitAny: printed JSON is checked by assertions
  json: () => any;
}

describe('npm run admin', () => {
  let stack: TestStack;
  let adminToken: string;
  beforeAll(async () => {
    stack = await startTestStack({ env: { ALLOWED_MODELS: OTHER_MODEL } });
    adminToken = await stack.token('operator', { admin: true });
  });
  afterAll(() => stack.close());

  /** Runs a command on the test stack; `pageSize` shrinks every listing's pages. */
  async function admin(
    args: string[],
    options: {
      token?: string;
      baseUrl?: string;
      pageSize?: number;
      /** Stands between the command and the API: to lose an answer, say. @default fetch */
      transport?: typeof fetch;
      attemptTimeoutMs?: number;
    } = {},
  ): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const requests: string[] = [];
    const io: AdminCommandIo = {
      baseUrl: options.baseUrl ?? stack.url,
      token: options.token ?? adminToken,
      fetch: (input, init) => {
        const url = new URL(String(input));
        if (options.pageSize && url.searchParams.has('limit')) {
          url.searchParams.set('limit', String(options.pageSize));
        }
        requests.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
        return (options.transport ?? fetch)(url, init);
      },
      print: (text) => out.push(text),
      printError: (text) => err.push(text),
      // Short, so that a stack that cannot be reached is reported at once.
      retryDelaysMs: [5, 5, 5],
      ...(options.attemptTimeoutMs && { attemptTimeoutMs: options.attemptTimeoutMs }),
    };
    const code = await runAdminCommand(args, io);
    return {
      code,
      out: out.join('\n'),
      err: err.join('\n'),
      requests,
      json: () => JSON.parse(out.join('\n')),
    };
  }

  it('creates a key, printing it as JSON and saying it is shown once', async () => {
    const run = await admin([
      'create-key',
      'cli-user',
      '--name',
      'laptop',
      '--budget',
      '2.5',
      '--rpm',
      '10',
      '--tpm',
      '5000',
      '--models',
      'claude-sonnet-4-6',
      '--expires',
      '2099-01-01T00:00:00Z',
    ]);
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^csk_/),
      principal: 'cli-user',
      name: 'laptop',
      monthlyBudgetUsd: 2.5,
      requestsPerMinute: 10,
      tokensPerMinute: 5000,
      allowedModels: ['claude-sonnet-4-6'],
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    expect(run.err).toContain('shown this once');

    const usage = await fetch(`${stack.url}/v1/usage`, {
      headers: { 'x-api-key': run.json().key },
    });
    expect(usage.status).toBe(200);
  });

  it('lists every page of keys, newest first, and one principal’s with --principal', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await admin(['create-key', 'paged-user'])).json().id);
      await admin(['create-key', 'other-user']);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const run = await admin(['list-keys', '--principal', 'paged-user'], { pageSize: 2 });
    expect(run.code).toBe(0);
    expect(run.json().keys.map((key: { id: string }) => key.id)).toEqual(ids.toReversed());
    expect(run.requests.length).toBeGreaterThanOrEqual(3);
    expect(run.json().keys.filter((key: object) => 'key' in key)).toEqual([]);

    const all = await admin(['list-keys'], { pageSize: 3 });
    expect(all.json().keys.length).toBeGreaterThanOrEqual(10);
  });

  it('shows and revokes a key', async () => {
    const { id } = (await admin(['create-key', 'revoked-by-cli'])).json();
    const shown = await admin(['get-key', id]);
    expect(shown.json()).toMatchObject({ id, usage: { requests: 0 } });
    const revoked = await admin(['revoke-key', id]);
    expect(revoked.code).toBe(0);
    expect(revoked.json().revokedAt).toEqual(expect.any(String));
    expect((await admin(['get-key', id])).json().revokedAt).toBe(revoked.json().revokedAt);
  });

  it("changes a key's budget and models in place: under its spend refused, raised admitted, a removed model refused", async () => {
    const { id, key } = (await admin(['create-key', 'cli-changed', '--budget', '5'])).json();
    const call = async (model = 'claude-sonnet-4-6') => {
      const response = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          max_tokens: 50,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      await response.body?.cancel();
      return response.status;
    };
    expect(await call()).toBe(200);
    const { costUsd } = (await admin(['get-key', id])).json().usage;

    const lowered = await admin(['set-key-limits', id, '--budget', String(costUsd)]);
    expect(lowered.code).toBe(0);
    expect(lowered.requests).toEqual([`PATCH /v1/admin/keys/${id}`]);
    expect(lowered.json()).toMatchObject({ id, monthlyBudgetUsd: costUsd });
    expect(await call()).toBe(402);

    expect((await admin(['set-key-limits', id, '--budget', '10'])).code).toBe(0);
    expect(await call()).toBe(200);

    const narrowed = await admin([
      'set-key-limits',
      id,
      '--models',
      'claude-sonnet-4-6',
      '--rpm',
      '50',
    ]);
    expect(narrowed.json()).toMatchObject({
      allowedModels: ['claude-sonnet-4-6'],
      requestsPerMinute: 50,
    });
    expect(await call(OTHER_MODEL)).toBe(403);

    const widened = await admin(['set-key-limits', id, '--models', 'all', '--budget', 'none']);
    expect(widened.json()).not.toHaveProperty('allowedModels');
    expect(widened.json()).not.toHaveProperty('monthlyBudgetUsd');
    expect(widened.json().requestsPerMinute).toBe(50);
    expect(await call(OTHER_MODEL)).toBe(200);

    const revoked = await admin(['revoke-key', id]);
    expect(revoked.code).toBe(0);
    const refused = await admin(['set-key-limits', id, '--budget', '1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^409 conflict_error: /);
  });

  /** Every key of `principal`, straight from the API. */
  const keyIdsOf = async (principal: string) => {
    const response = await fetch(`${stack.url}/v1/admin/keys?principal=${principal}&limit=100`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    return ((await response.json()) as { keys: Array<{ id: string }> }).keys.map((key) => key.id);
  };

  it('sends create-key again with the same Idempotency-Key when its answer is lost, printing the one key it made', async () => {
    const sent: Array<string | null> = [];
    const dropFirstAnswer: typeof fetch = async (input, init) => {
      sent.push(new Headers(init?.headers).get('idempotency-key'));
      const response = await fetch(input, init);
      if (sent.length > 1) return response;
      // The key is made; its answer never reaches the command (a dropped connection).
      await response.text();
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    };

    const run = await admin(['create-key', 'lost-answer', '--budget', '3'], {
      transport: dropFirstAnswer,
    });

    expect(run.code).toBe(0);
    expect(run.requests).toEqual(['POST /v1/admin/keys', 'POST /v1/admin/keys']);
    expect(sent[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[1]).toBe(sent[0]);
    expect(run.err).toContain('no answer (fetch failed) from POST /v1/admin/keys: trying again');
    expect(await keyIdsOf('lost-answer')).toEqual([run.json().id]);
    const usage = await fetch(`${stack.url}/v1/usage`, {
      headers: { 'x-api-key': run.json().key },
    });
    expect(usage.status).toBe(200);
  });

  it('says a key its retry answered was revoked since, rather than to store it (it said store it now)', async () => {
    let attempts = 0;
    const revokedBeforeTheRetry: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (attempts++ > 0) return response;
      // The key is made, another admin revokes it, and the first answer is lost.
      const { id } = (await response.json()) as { id: string };
      expect((await admin(['revoke-key', id])).code).toBe(0);
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    };

    const run = await admin(['create-key', 'revoked-since'], { transport: revokedBeforeTheRetry });

    expect(run.code).toBe(0);
    expect(run.json().revokedAt).toEqual(expect.any(String));
    expect(run.err).toContain(
      `Key ${run.json().id}, made by this request, was revoked at ${run.json().revokedAt}: its secret no longer works. Do not store it; create another key.`,
    );
    expect(run.err).not.toContain('store it now');
  });

  it('says a key its retry answered has expired since, rather than to store it', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    let attempts = 0;
    const expiredBeforeTheRetry: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (attempts++ > 0) return response;
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 50));
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    };

    const run = await admin(['create-key', 'expired-since', '--expires', expiresAt], {
      transport: expiredBeforeTheRetry,
    });

    expect(run.code).toBe(0);
    expect(run.err).toContain(`expired at ${expiresAt}: its secret no longer works`);
    expect(run.err).not.toContain('store it now');
  });

  it('sends create-key again when its answer does not come in time, making one key', async () => {
    let calls = 0;
    const stalled: typeof fetch = async (input, init) => {
      const response = await fetch(input, { ...init, signal: null });
      if (calls++ > 0) return response;
      // Made, but answered past the attempt's time: the command gives up on it.
      await response.text();
      const signal = init?.signal as AbortSignal;
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
      return response;
    };

    const run = await admin(['create-key', 'slow-answer'], {
      transport: stalled,
      attemptTimeoutMs: 300,
    });

    expect(run.code).toBe(0);
    expect(run.requests).toHaveLength(2);
    expect(await keyIdsOf('slow-answer')).toEqual([run.json().id]);
  });

  it('gives up after its retries of a request that keeps failing, with the last answer', async () => {
    const unavailable: typeof fetch = async () =>
      Response.json(
        { type: 'error', error: { type: 'api_error', message: 'throttled' } },
        { status: 503 },
      );

    const run = await admin(['list-keys'], { transport: unavailable });

    expect(run.code).toBe(1);
    expect(run.requests).toHaveLength(4);
    expect(run.err).toMatch(/503 api_error: throttled$/);
  });

  it.each([
    [['list-keys'], 'GET /v1/admin/keys?limit=100'],
    [['create-key', 'not-json'], 'POST /v1/admin/keys'],
  ])(
    'exits with 1 and says what came when %j is answered 2xx with something not JSON (it printed undefined)',
    async (args, request) => {
      const proxyPage: typeof fetch = async () =>
        new Response('<html>\u001b[2JWelcome</html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        });

      const run = await admin(args, { transport: proxyPage });

      expect(run.code).toBe(1);
      expect(run.out).toBe('');
      expect(run.err).toContain(
        `200 from ${request}, but not the admin API's JSON (text/html: "<html>\\u001b[2JWelcome</html>")`,
      );
      expect(run.err).not.toContain('\u001b');
      expect(run.err).not.toContain('store it now');
    },
  );

  it.each(['null', '[]', '"ok"'])(
    'exits with 1 and says what came when list-keys is answered 2xx with the JSON %s (it threw a TypeError)',
    async (body) => {
      const notAnObject: typeof fetch = async () =>
        new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });

      const run = await admin(['list-keys'], { transport: notAnObject });

      expect(run.code).toBe(1);
      expect(run.err).toContain("but not the admin API's JSON");
    },
  );

  it('prints a key name holding a C1 control or a bidi override escaped, as the same JSON', async () => {
    const name = 'old\u009b2Jkey \u202egnp.exe\u2028\u007f';
    const namedBefore: typeof fetch = async () =>
      Response.json({ keys: [{ id: `key_${'0'.repeat(32)}`, principal: 'p', name }] });

    const run = await admin(['list-keys'], { transport: namedBefore });

    expect(run.code).toBe(0);
    expect(run.out).toContain('"name": "old\\u009b2Jkey \\u202egnp.exe\\u2028\\u007f"');
    expect(run.out).not.toMatch(/[\u007f-\u009f\u2028\u202e]/);
    expect(run.json().keys[0].name).toBe(name);
  });

  it('does not send again a request the API refused', async () => {
    const run = await admin(['create-key', 'iam:not-a-key-principal']);

    expect(run.code).toBe(1);
    expect(run.requests).toEqual(['POST /v1/admin/keys']);
  });

  it("sets and shows a principal's budget", async () => {
    const set = await admin(['set-budget', 'cli-budgeted', '42']);
    expect(set.code).toBe(0);
    expect(set.requests).toEqual(['PUT /v1/admin/principals/cli-budgeted/budget']);
    expect(set.json()).toMatchObject({ monthlyBudgetUsd: 42, isDefault: false });
    expect((await admin(['get-budget', 'cli-budgeted'])).json()).toMatchObject({
      principal: 'cli-budgeted',
      monthlyBudgetUsd: 42,
    });
  });

  it('prints the usage report of a month', async () => {
    const run = await admin(['usage', '--month', '2025-11', '--top', '5']);
    expect(run.code).toBe(0);
    expect(run.requests).toEqual(['GET /v1/admin/usage?month=2025-11&top=5']);
    expect(run.json()).toEqual({ month: '2025-11', byPrincipal: [], byKey: [], byModel: [] });
    expect((await admin(['usage'])).json().month).toBe(monthOf(Date.now()));
  });

  it("exits with 1 and prints the API's message when the API refuses", async () => {
    const invalid = await admin(['usage', '--month', '2026-13']);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/^400 invalid_request_error: .*month/);

    const unknown = await admin(['get-key', `key_${'0'.repeat(32)}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^404 not_found_error: /);

    const notAdmin = await admin(['list-keys'], { token: await stack.token('plain-user') });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toContain('403 permission_error: the admin API needs a token');
  });

  it('exits with 1 on a key name holding a terminal escape, making no key and echoing no escape', async () => {
    const run = await admin(['create-key', 'cli-escape', '--name', 'laptop\u001b[2J']);

    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^400 invalid_request_error: name: U\+001B \(character 7\)/);
    expect(run.err).not.toContain('\u001b');
    expect(run.err).not.toContain('store it now');
    expect((await admin(['list-keys', '--principal', 'cli-escape'])).json().keys).toEqual([]);
  });

  it('exits with 1 and says so when the stack cannot be reached', async () => {
    const run = await admin(['list-keys'], { baseUrl: 'http://127.0.0.1:9' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('could not reach http://127.0.0.1:9');
  });

  const badArguments: Record<string, string[]> = {
    'no command': [],
    'an unknown command': ['mint-key', 'alice'],
    'an inherited property name': ['toString'],
    'a missing argument': ['create-key'],
    'an extra argument': ['get-key', 'key_1', 'key_2'],
    'an unknown option': ['list-keys', '--owner', 'alice'],
    'an option without its value': ['create-key', 'alice', '--budget'],
    'a budget that is no number': ['set-budget', 'alice', 'lots'],
    'a fractional rate': ['create-key', 'alice', '--rpm', '1.5'],
    'a key change with no limit named': ['set-key-limits', 'key_1'],
    'a key budget that is no number': ['set-key-limits', 'key_1', '--budget', 'lots'],
    'a top that is no number': ['usage', '--top', 'ten'],
    // Number() reads these as 16 and 5: a budget of $16 was set.
    'a budget in hexadecimal': ['set-budget', 'alice', '0x10'],
    'a rate in binary': ['create-key', 'alice', '--rpm', '0b101'],
    // The last one was taken: a key meant for two models was made for the second only.
    'an option given twice': [
      'create-key',
      'alice',
      '--models',
      'claude-sonnet-4-6',
      '--models',
      'claude-opus-4-6',
    ],
    'a principal given twice': ['list-keys', '--principal', 'alice', '--principal', 'bob'],
    // An unset shell variable: `--principal "$P"` listed every principal's keys.
    'an empty principal': ['list-keys', '--principal', ''],
    'an empty month': ['usage', '--month', ''],
    'an empty name': ['create-key', 'alice', '--name', ' '],
    'an empty key id': ['revoke-key', ''],
    // A URL resolves them away: GET /v1/admin/ and DELETE /v1/admin/keys/ were called.
    'a key id of two dots': ['get-key', '..'],
    'a key id of one dot': ['revoke-key', '.'],
    'a key id of dots to change': ['set-key-limits', '..', '--budget', '5'],
    'a principal of dots': ['set-budget', '..', '5'],
  };
  for (const [name, args] of Object.entries(badArguments)) {
    it(`exits with 2 and the usage on ${name}, calling nothing`, async () => {
      const run = await admin(args);
      expect(run.code).toBe(2);
      expect(run.err).toContain('usage: npm run admin -- ');
      expect(run.out).toBe('');
      expect(run.requests).toEqual([]);
    });
  }

  it('prints the usage for help, with exit code 0', async () => {
    const run = await admin(['help']);
    expect(run.code).toBe(0);
    for (const command of [
      'create-key',
      'list-keys',
      'get-key',
      'revoke-key',
      'set-key-limits',
      'get-budget',
      'set-budget',
      'usage',
    ]) {
      expect(run.out).toContain(`  ${command}`);
    }
  });
});

describe('npm run admin on a local stack that checks iss and aud', () => {
  const checks = { JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'claude-api' };
  let stack: TestStack;
  let cwd: string;
  beforeAll(async () => {
    stack = await startTestStack({ env: checks });
    // Where `npm start` would have said the stack is: npm run admin reads it there.
    cwd = mkdtempSync(join(tmpdir(), 'admin-cli-'));
    mkdirSync(join(cwd, '.local'));
    writeFileSync(
      join(cwd, '.local', 'outputs.json'),
      JSON.stringify({ functionUrl: `${stack.url}/` }),
    );
  });
  afterAll(async () => {
    await stack.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('signs its token with JWT_ISSUER and JWT_AUDIENCE from the shell, as npm run token does', async () => {
    const { stdout } = await promisify(execFile)(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [join(REPO_ROOT, 'local-stack', 'admin.ts'), 'usage'],
      { cwd, env: { ...process.env, ...checks } },
    );
    expect(JSON.parse(stdout).month).toBe(monthOf(Date.now()));
  });
});
