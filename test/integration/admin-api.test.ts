import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../shared/domain/budget.js';
import { usdToNano } from '../../shared/domain/pricing/model-price.js';
import { ZERO_USAGE } from '../../shared/domain/usage.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { awayFromMinuteEnd } from './support/wall-clock-windows.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = 'operator';
const NO_SUCH_KEY = `key_${'0'.repeat(32)}`;
const ADMIN_ROUTES: ReadonlyArray<readonly [string, string, unknown?]> = [
  ['POST', '/v1/admin/keys', { principal: 'target' }],
  ['GET', '/v1/admin/keys'],
  ['GET', `/v1/admin/keys/${NO_SUCH_KEY}`],
  ['DELETE', `/v1/admin/keys/${NO_SUCH_KEY}`],
  ['PATCH', `/v1/admin/keys/${NO_SUCH_KEY}`, { monthlyBudgetUsd: 1 }],
  ['GET', '/v1/admin/principals/target/budget'],
  ['PUT', '/v1/admin/principals/target/budget', { monthlyBudgetUsd: 1000 }],
  ['GET', '/v1/admin/usage'],
];

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
/** Signed with the stack's secret: only its claims decide. */
const signed = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(LOCAL_STACK.jwtSecret));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CreatedKey {
  id: string;
  key: string;
  hint: string;
  principal: string;
  name?: string;
  createdAt: string;
  revokedAt?: string;
}

/** Test helpers bound to one stack. */
function adminClient(stack: TestStack) {
  const send = (
    headers: Record<string, string>,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Response> =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const asAdmin = async (method: string, path: string, body?: unknown) =>
    send(bearer(await stack.token(ADMIN, { admin: true })), method, path, body);
  const createKey = async (body: Record<string, unknown>): Promise<CreatedKey> => {
    const response = await asAdmin('POST', '/v1/admin/keys', body);
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
    return json(response);
  };
  /** Every key of a listing, page by page, with the pages' sizes. */
  const listAll = async (query: string) => {
    const ids: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/admin/keys?${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await json(await asAdmin('GET', path));
      ids.push(...page.keys.map((key: { id: string }) => key.id));
      pageSizes.push(page.keys.length);
      cursor = page.nextCursor;
    } while (cursor);
    return { ids, pageSizes };
  };
  return { send, asAdmin, createKey, listAll };
}

/** Polls until `check` holds; the milliseconds it took. */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > withinMs) throw new Error(`still not true after ${withinMs} ms`);
    await sleep(200);
  }
  return Date.now() - started;
}

describe('who may use the admin API', () => {
  let stack: TestStack;
  let api: ReturnType<typeof adminClient>;
  beforeAll(async () => {
    stack = await startTestStack();
    api = adminClient(stack);
  });
  afterAll(() => stack.close());

  it('answers a token without the admin claim with 403 permission_error on every admin route, changing nothing', async () => {
    const token = await stack.token('plain-user');
    for (const [method, path, body] of ADMIN_ROUTES) {
      const response = await api.send(bearer(token), method, path, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      const answer = await json(response);
      expect(answer).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
      expect(answer.error.message).toContain('admin claim');
      expect(answer.requestId).toEqual(expect.any(String));
    }
    const budget = await json(await api.asAdmin('GET', '/v1/admin/principals/target/budget'));
    expect(budget.isDefault).toBe(true);
    expect((await api.listAll('principal=target')).ids).toEqual([]);
  });

  const claims: Record<string, [Record<string, unknown>, number]> = {
    'groups: ["users", "admin"]': [{ groups: ['users', 'admin'] }, 200],
    'groups: "admin"': [{ groups: 'admin' }, 200],
    'groups: "administrators"': [{ groups: 'administrators' }, 403],
    'groups: ["admin-ish"]': [{ groups: ['admin-ish'] }, 403],
    'groups: { admin: true }': [{ groups: { admin: true } }, 403],
    'roles: ["admin"]': [{ roles: ['admin'] }, 403],
    // Claims of the wrong type: never coerced into the admin claim.
    'groups: 123': [{ groups: 123 }, 403],
    'groups: null': [{ groups: null }, 403],
    'groups: [["admin"]]': [{ groups: [['admin']] }, 403],
    'groups: an object that looks like a list': [{ groups: { 0: 'admin', length: 1 } }, 403],
    'groups: " admin"': [{ groups: ' admin' }, 403],
    'groups: [1, "admin"]': [{ groups: [1, 'admin'] }, 200],
  };
  for (const [name, [claim, status]] of Object.entries(claims)) {
    it(`answers a token with ${name} with ${status}`, async () => {
      const token = await signed({ sub: 'claimant', ...claim });
      const response = await api.send(bearer(token), 'GET', '/v1/admin/usage');
      expect(response.status).toBe(status);
    });
  }

  it("answers an API key with 403 on every admin route, even an admin's own key", async () => {
    const { key } = await api.createKey({ principal: ADMIN, name: 'admin laptop' });
    for (const headers of [{ 'x-api-key': key }, bearer(key)]) {
      for (const [method, path, body] of ADMIN_ROUTES) {
        const response = await api.send(headers, method, path, body);
        expect(response.status, `${method} ${path}`).toBe(403);
        const { error } = await json(response);
        expect(error.type).toBe('permission_error');
        expect(error.message).toContain('API keys cannot use the admin API');
      }
    }
  });

  it('answers every admin route without a credential with 401', async () => {
    for (const [method, path, body] of ADMIN_ROUTES) {
      const response = await api.send({}, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(401);
      expect((await json(response)).error.type).toBe('authentication_error');
    }
  });

  it('honours the adminClaim setting', async () => {
    const custom = await startTestStack({ env: { ADMIN_CLAIM: 'roles=platform-admin' } });
    try {
      const ask = async (claim: Record<string, unknown>) =>
        (
          await fetch(`${custom.url}/v1/admin/usage`, {
            headers: bearer(await signed({ sub: 'claimant', ...claim })),
          })
        ).status;
      expect(await ask({ roles: ['platform-admin'] })).toBe(200);
      expect(await ask({ groups: ['admin'] })).toBe(403);
    } finally {
      await custom.close();
    }
  });

  it('honours an adminClaim whose claim is namespaced by a URL, as Auth0 recommends', async () => {
    const claim = 'https://app.example.com/roles';
    const custom = await startTestStack({ env: { ADMIN_CLAIM: `${claim}=admin` } });
    try {
      const ask = async (claims: Record<string, unknown>) =>
        (
          await fetch(`${custom.url}/v1/admin/usage`, {
            headers: bearer(await signed({ sub: 'claimant', ...claims })),
          })
        ).status;
      expect(await ask({ [claim]: ['admin'] })).toBe(200);
      expect(await ask({ roles: ['admin'] })).toBe(403);
    } finally {
      await custom.close();
    }
  });
});

describe('API keys', () => {
  let stack: TestStack;
  let api: ReturnType<typeof adminClient>;
  beforeAll(async () => {
    stack = await startTestStack();
    api = adminClient(stack);
  });
  afterAll(() => stack.close());

  it('creates a key of 256 random bits that is shown once and never stored', async () => {
    const response = await api.asAdmin('POST', '/v1/admin/keys', {
      principal: 'team-blue',
      name: 'ci',
      monthlyBudgetUsd: 5,
      requestsPerMinute: 30,
      tokensPerMinute: 10_000,
      allowedModels: ['claude-sonnet-4-6'],
    });
    expect(response.status).toBe(201);
    const created = await json(response);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^key_[a-f0-9]{32}$/),
      principal: 'team-blue',
      name: 'ci',
      monthlyBudgetUsd: 5,
      requestsPerMinute: 30,
      tokensPerMinute: 10_000,
      allowedModels: ['claude-sonnet-4-6'],
    });
    expect(Date.parse(created.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(created.key).toMatch(/^csk_[A-Za-z0-9_-]{43}$/);
    const random = created.key.slice('csk_'.length);
    expect(Buffer.from(random, 'base64url').length * 8).toBeGreaterThanOrEqual(256);
    expect(created.hint).not.toContain(random);
    const shownOfRandom = created.hint.slice('csk_'.length).replace(/[^A-Za-z0-9_-]/g, '');
    expect(shownOfRandom.length).toBeLessThanOrEqual(8);
    const another = await api.createKey({ principal: 'team-blue' });
    expect(another.key).not.toBe(created.key);

    const { Items = [] } = await stack.documentClient.send(
      new ScanCommand({ TableName: stack.tableName }),
    );
    const stored = JSON.stringify(Items);
    expect(stored).toContain(created.id);
    expect(stored).not.toContain(random);
    for (const path of [`/v1/admin/keys/${created.id}`, '/v1/admin/keys']) {
      const read = JSON.stringify(await json(await api.asAdmin('GET', path)));
      expect(read).toContain(created.id);
      expect(read).not.toContain(random);
      expect(read).not.toContain('secretHash');
    }
  });

  it('lists keys newest first, page by page, and only one principal’s when asked', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push((await api.createKey({ principal: 'lister-a', name: `a${i}` })).id);
      await api.createKey({ principal: 'lister-b' });
      await sleep(2); // distinct createdAt milliseconds
    }
    const newestFirst = created.toReversed();

    const filtered = await api.listAll('principal=lister-a&limit=2');
    expect(filtered.ids).toEqual(newestFirst);
    expect(filtered.pageSizes.every((size) => size <= 2)).toBe(true);
    expect(filtered.pageSizes.length).toBeGreaterThanOrEqual(3);
    // As every listing (conversations, jobs) ends: without `nextCursor` (it was `null`).
    const lastPage = await json(await api.asAdmin('GET', '/v1/admin/keys?principal=lister-a'));
    expect(lastPage.keys).toHaveLength(5);
    expect(lastPage).not.toHaveProperty('nextCursor');

    const everything = await api.listAll('limit=3');
    expect(everything.ids.filter((id) => created.includes(id))).toEqual(newestFirst);
    expect(new Set(everything.ids).size).toBe(everything.ids.length);
    const all = await json(await api.asAdmin('GET', '/v1/admin/keys?limit=100'));
    const times = all.keys.map((key: { createdAt: string }) => key.createdAt);
    expect(times).toEqual(times.toSorted().toReversed());
    expect(all.keys.length).toBe(everything.ids.length);
  });

  it('names a key whose name ends in half an emoji with U+FFFD in its place, as it is stored and listed', async () => {
    const created = await api.createKey({ principal: 'half-emoji', name: 'laptop \ud83d' });

    const shown = await json(await api.asAdmin('GET', `/v1/admin/keys/${created.id}`));
    const listed = await json(await api.asAdmin('GET', '/v1/admin/keys?principal=half-emoji'));

    expect(created).toMatchObject({ name: 'laptop \ufffd' });
    expect(shown.name).toBe('laptop \ufffd');
    expect(listed.keys[0].name).toBe('laptop \ufffd');
  });

  it.each([
    ['an escape (C0)', 'ci\u001b[2J', '001B', 3],
    ['a tab', 'ci\tbox', '0009', 3],
    ['a C1 control', 'ci\u009bbox', '009B', 3],
    ['DEL', 'ci\u007f', '007F', 3],
    ['a line separator', 'ci\u2028box', '2028', 3],
    ['a bidi override', '\ud83d\udd11 \u202egnp.exe', '202E', 3],
    ['a bidi isolate', 'ci\u2066box', '2066', 3],
  ])(
    'refuses a key name holding %s with 400 naming the character, making no key',
    async (_, name, codePoint, position) => {
      const response = await api.asAdmin('POST', '/v1/admin/keys', {
        principal: 'control-name',
        name,
      });

      expect(response.status).toBe(400);
      expect((await json(response)).error).toEqual({
        type: 'invalid_request_error',
        message: `name: U+${codePoint} (character ${position}) is a control character, line separator or bidi override: a name is plain text on one line`,
      });
      expect((await api.listAll('principal=control-name')).ids).toEqual([]);
    },
  );

  it.each([
    ['spaces', '   '],
    ['a no-break space', '\u00a0'],
    ['ideographic spaces', '\u3000\u3000'],
  ])(
    'refuses a key name of %s alone with 400, making no key (it was a key named blank)',
    async (_, name) => {
      const response = await api.asAdmin('POST', '/v1/admin/keys', {
        principal: 'blank-name',
        name,
      });

      expect(response.status).toBe(400);
      expect((await json(response)).error).toEqual({
        type: 'invalid_request_error',
        message: 'name: a name of spaces alone shows as none: leave it out, or give a label',
      });
      expect((await api.listAll('principal=blank-name')).ids).toEqual([]);
    },
  );

  it('keeps a key name with right-to-left text and its bidi marks', async () => {
    const name = 'מפתח\u200f ci';
    expect((await api.createKey({ principal: 'rtl-name', name })).name).toBe(name);
  });

  it('answers a principal filter that is no user id with 400 rather than an empty list', async () => {
    await api.createKey({ principal: 'filtered' });
    for (const principal of ['filtered%20', '%20filtered', 'filtered%23x', 'a%2Fb', '..', '%00']) {
      const response = await api.asAdmin('GET', `/v1/admin/keys?principal=${principal}`);
      expect(response.status, principal).toBe(400);
      const { error } = await json(response);
      expect(error).toEqual({
        type: 'invalid_request_error',
        message: 'principal: not a valid user or team id',
      });
    }
    expect((await api.listAll('principal=filtered')).ids).toHaveLength(1);
  });

  it("refuses a page cursor made for another principal's listing", async () => {
    for (let i = 0; i < 3; i++) await api.createKey({ principal: 'cursor-owner' });
    const page = await json(
      await api.asAdmin('GET', '/v1/admin/keys?principal=cursor-owner&limit=1'),
    );
    expect(page.nextCursor).toEqual(expect.any(String));
    const reused = await api.asAdmin(
      'GET',
      `/v1/admin/keys?principal=someone-else&limit=1&cursor=${page.nextCursor}`,
    );
    expect(reused.status).toBe(400);
    expect((await json(reused)).error.type).toBe('invalid_request_error');
  });

  it("shows a key with this month's usage, and 404 for an unknown id", async () => {
    const { id } = await api.createKey({ principal: 'shown', monthlyBudgetUsd: 2 });
    const response = await api.asAdmin('GET', `/v1/admin/keys/${id}`);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      id,
      principal: 'shown',
      monthlyBudgetUsd: 2,
      usage: { month: monthOf(Date.now()), requests: 0, costUsd: 0, heldUsd: 0 },
    });
    const unknown = await api.asAdmin('GET', `/v1/admin/keys/${NO_SUCH_KEY}`);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.type).toBe('not_found_error');
  });

  it('answers an id that is no key id of ours with 404, however long (3,000 characters were a 500)', async () => {
    for (const id of ['k'.repeat(3_000), 'key_%E2%82%AC', `${NO_SUCH_KEY}x`]) {
      for (const method of ['GET', 'DELETE', 'PATCH'] as const) {
        const body = method === 'PATCH' ? { monthlyBudgetUsd: 1 } : undefined;
        const response = await api.asAdmin(method, `/v1/admin/keys/${id}`, body);
        expect(response.status, `${method} ${id.slice(0, 20)}`).toBe(404);
        const { error } = await json(response);
        expect(error.type).toBe('not_found_error');
        expect(error.message.length).toBeLessThan(200);
      }
    }
  });

  it('quotes an overlong id cut in its 404 whole characters only, never half an emoji', async () => {
    const id = `k${'\u{1F511}'.repeat(70)}`;

    const response = await api.asAdmin('GET', `/v1/admin/keys/${encodeURIComponent(id)}`);

    expect(response.status).toBe(404);
    const { message } = (await json(response)).error;
    expect(message).toBe(`no API key k${'\u{1F511}'.repeat(63)}…`);
    expect(message.isWellFormed()).toBe(true);
  });

  it('answers a list of thousands of unknown models with a short 400, on create and on change (it echoed them all: 200 KB)', async () => {
    const { id } = await api.createKey({ principal: 'many-models', monthlyBudgetUsd: 1 });
    const unknown = Array.from({ length: 20_000 }, (_, i) => `claude-imaginary-${i}`);
    for (const body of [unknown.slice(0, 100), unknown.slice(0, 101), unknown]) {
      const created = await api.asAdmin('POST', '/v1/admin/keys', {
        principal: 'many-models',
        allowedModels: body,
      });
      const changed = await api.asAdmin('PATCH', `/v1/admin/keys/${id}`, { allowedModels: body });
      for (const response of [created, changed]) {
        expect(response.status, `${body.length} models`).toBe(400);
        const { error } = await json(response);
        expect(error.type).toBe('invalid_request_error');
        expect(error.message).toContain('allowedModels');
        expect(error.message.length).toBeLessThan(500);
      }
    }
    expect((await api.listAll('principal=many-models')).ids).toEqual([id]);
    expect(
      (await json(await api.asAdmin('GET', `/v1/admin/keys/${id}`))).allowedModels,
    ).toBeUndefined();
  });

  it("shows a key's own month and budget beside its principal's on GET /v1/usage", async () => {
    const { id, key } = await api.createKey({ principal: 'key-spender', monthlyBudgetUsd: 0.5 });
    const turn = await collectSse(
      await api.send({ 'x-api-key': key }, 'POST', '/v1/chat', { message: 'hi' }),
    );
    const costUsd = turn.at(-1)!.data.costUsd as number;

    const withKey = await json(await api.send({ 'x-api-key': key }, 'GET', '/v1/usage'));
    const withToken = await json(await stack.request('key-spender', 'GET', '/v1/usage'));

    expect(costUsd).toBeGreaterThan(0);
    expect(withKey).toMatchObject({
      userId: 'key-spender',
      budgetUsd: withToken.budgetUsd,
      costUsd,
      apiKey: {
        id,
        costUsd,
        requests: 1,
        budgetUsd: 0.5,
        remainingUsd: expect.closeTo(0.5 - costUsd, 9),
      },
    });
    expect(withToken.apiKey).toBeUndefined();
  });

  it('authenticates with the key in x-api-key or as a bearer token, acting as its principal', async () => {
    const { id, key } = await api.createKey({ principal: 'key-owner' });
    await api.asAdmin('PUT', '/v1/admin/principals/key-owner/budget', { monthlyBudgetUsd: 37.5 });
    for (const headers of [{ 'x-api-key': key }, bearer(key)]) {
      const response = await api.send(headers, 'GET', '/v1/usage');
      expect(response.status).toBe(200);
      expect((await json(response)).budgetUsd).toBe(37.5);
    }

    const turn = await collectSse(
      await api.send({ 'x-api-key': key }, 'POST', '/v1/chat', { message: 'hi' }),
    );
    const conversationId = turn[0]!.data.conversationId;
    const owners = await json(await stack.request('key-owner', 'GET', '/v1/conversations'));
    expect(owners.conversations.map((c: { id: string }) => c.id)).toEqual([conversationId]);

    await eventually(
      async () =>
        (await json(await api.asAdmin('GET', `/v1/admin/keys/${id}`))).lastUsedAt !== undefined,
      5_000,
    );
  });

  it('refuses a revoked key at once on the instance that revoked it (it was used from its cache for 5 s), and revoking again keeps the first time', async () => {
    const { id, key } = await api.createKey({ principal: 'revoked-user' });
    expect((await api.send({ 'x-api-key': key }, 'GET', '/v1/usage')).status).toBe(200);

    const revoked = await api.asAdmin('DELETE', `/v1/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    const { revokedAt } = await json(revoked);
    expect(Date.parse(revokedAt)).toBeGreaterThan(Date.now() - 10_000);

    expect((await api.send({ 'x-api-key': key }, 'GET', '/v1/usage')).status).toBe(401);
    const refused = await json(await api.send(bearer(key), 'GET', '/v1/usage'));
    expect(refused.error).toMatchObject({
      type: 'authentication_error',
      message: expect.stringContaining('revoked'),
    });

    const again = await api.asAdmin('DELETE', `/v1/admin/keys/${id}`);
    expect(again.status).toBe(200);
    expect((await json(again)).revokedAt).toBe(revokedAt);
    expect((await json(await api.asAdmin('GET', `/v1/admin/keys/${id}`))).revokedAt).toBe(
      revokedAt,
    );
    expect((await api.asAdmin('DELETE', `/v1/admin/keys/${NO_SUCH_KEY}`)).status).toBe(404);
  });

  it('keeps each allowed model once, however often it is named (30,000 times were a 500)', async () => {
    const { id, key, ...created } = await api.createKey({
      principal: 'repeated-models',
      allowedModels: Array(30_000).fill('claude-sonnet-4-6'),
    });
    expect(created).toMatchObject({ allowedModels: ['claude-sonnet-4-6'] });
    const shown = await json(await api.asAdmin('GET', `/v1/admin/keys/${id}`));
    expect(shown.allowedModels).toEqual(['claude-sonnet-4-6']);
    expect((await api.send({ 'x-api-key': key }, 'GET', '/v1/usage')).status).toBe(200);
  });

  it('refuses to create a key that has expired already', async () => {
    const response = await api.asAdmin('POST', '/v1/admin/keys', {
      principal: 'late',
      expiresAt: new Date(Date.now() - 1_000).toISOString(),
    });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('expiresAt'),
    });
  });

  it("refuses a key acting for an IAM caller's user (iam:…), as it refuses such a token", async () => {
    const response = await api.asAdmin('POST', '/v1/admin/keys', {
      principal: 'iam:arn:aws:sts::123456789012:assumed-role_Admin_alice',
    });

    expect(response.status).toBe(400);
    expect((await json(response)).error.message).toContain('iam:');
    const principal = encodeURIComponent('iam:arn:aws:sts::123456789012:assumed-role_Admin_alice');
    expect((await api.listAll(`principal=${principal}`)).ids).toEqual([]);
  });

  it('refuses a key once it has expired', async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const { key } = await api.createKey({ principal: 'short-lived', expiresAt });
    expect((await api.send({ 'x-api-key': key }, 'GET', '/v1/usage')).status).toBe(200);

    await eventually(
      async () => (await api.send({ 'x-api-key': key }, 'GET', '/v1/usage')).status === 401,
      6_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const { error } = await json(await api.send({ 'x-api-key': key }, 'GET', '/v1/usage'));
    expect(error.message).toContain('expired');
  });

  const invalid: Record<string, Record<string, unknown>> = {
    'a principal with #': { principal: 'team#blue' },
    'a principal with /': { principal: 'team/blue' },
    'an empty principal': { principal: '' },
    'no principal': { name: 'orphan' },
    'an unknown model': { principal: 'p', allowedModels: ['claude-imaginary-9'] },
    'no models': { principal: 'p', allowedModels: [] },
    'a negative budget': { principal: 'p', monthlyBudgetUsd: -1 },
    'a budget below a nano-dollar': { principal: 'p', monthlyBudgetUsd: 1e-300 },
    'a budget over the most a principal may have': { principal: 'p', monthlyBudgetUsd: 9_000_001 },
    'a fractional rate': { principal: 'p', requestsPerMinute: 1.5 },
    'a date without offset': { principal: 'p', expiresAt: '2099-01-01T00:00:00' },
    // 10000-01-01T00:59:59Z: no RFC 3339 instant could say it back.
    'an expiry past the year 9999 in UTC': {
      principal: 'p',
      expiresAt: '9999-12-31T23:59:59-01:00',
    },
    'an unknown field': { principal: 'p', scopes: ['admin'] },
  };
  for (const [name, body] of Object.entries(invalid)) {
    it(`answers a new key with ${name} with 400`, async () => {
      const response = await api.asAdmin('POST', '/v1/admin/keys', body);
      expect(response.status).toBe(400);
      expect((await json(response)).error.type).toBe('invalid_request_error');
    });
  }
});

const OTHER_MODEL = 'claude-opus-4-6';

/** A key's own limits bind on both model APIs; its principal's usage report counts it. */
describe('what an API key may spend', () => {
  let stack: TestStack;
  let api: ReturnType<typeof adminClient>;
  beforeAll(async () => {
    stack = await startTestStack({ env: { ALLOWED_MODELS: OTHER_MODEL } });
    api = adminClient(stack);
  });
  afterAll(() => stack.close());

  /** One small model call through `path` with the key; the response's status. */
  const callModel = async (path: string, key: string, model = 'claude-sonnet-4-6') => {
    const response = await api.send(
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      'POST',
      path,
      path === '/v1/chat'
        ? { message: 'hi', model }
        : { model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
    );
    // A chat turn is counted when its stream ends.
    if (response.status === 200 && path === '/v1/chat') await collectSse(response);
    else await response.body?.cancel();
    return response.status;
  };

  for (const path of ['/v1/messages', '/v1/chat']) {
    it(`counts a call on ${path} in the key's own usage`, async () => {
      const { id, key } = await api.createKey({ principal: `counted${path.replaceAll('/', '-')}` });
      expect(await callModel(path, key)).toBe(200);
      const shown = await json(await api.asAdmin('GET', `/v1/admin/keys/${id}`));
      expect(shown.usage.requests).toBe(1);
      expect(shown.usage.costUsd).toBeGreaterThan(0);
    });

    it(`holds a key to its own requests per minute on ${path}`, async () => {
      const { key } = await api.createKey({
        principal: `hasty${path.replaceAll('/', '-')}`,
        requestsPerMinute: 1,
      });
      await awayFromMinuteEnd();
      expect(await callModel(path, key)).toBe(200);
      expect(await callModel(path, key)).toBe(429);
    });

    it(`holds a key to its allowed models on ${path}`, async () => {
      const { key } = await api.createKey({
        principal: `narrow${path.replaceAll('/', '-')}`,
        allowedModels: ['claude-sonnet-4-6'],
      });
      expect(await callModel(path, key, OTHER_MODEL)).toBe(403);
      expect(await callModel(path, key)).toBe(200);
    });
  }

  it('holds a key to its allowed models on /v1/jobs', async () => {
    const { key } = await api.createKey({
      principal: 'narrow-jobs',
      allowedModels: ['claude-sonnet-4-6'],
    });
    const submit = (model: string) =>
      api.send({ 'x-api-key': key }, 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `a document for ${model}`,
        model,
      });
    expect((await submit(OTHER_MODEL)).status).toBe(403);
    expect((await submit('claude-sonnet-4-6')).status).toBe(202);
  });

  it("reports a key's /v1/messages calls by principal, key and model", async () => {
    const { id, key } = await api.createKey({ principal: 'reported' });
    for (let i = 0; i < 2; i++) expect(await callModel('/v1/messages', key)).toBe(200);
    const report = await json(await api.asAdmin('GET', '/v1/admin/usage?top=100'));
    expect(report.byPrincipal).toContainEqual(
      expect.objectContaining({ name: 'reported', requests: 2, costUsd: expect.any(Number) }),
    );
    expect(report.byKey).toContainEqual(expect.objectContaining({ name: id, requests: 2 }));
    expect(report.byModel).toContainEqual(
      expect.objectContaining({ name: 'claude-sonnet-4-6', requests: expect.any(Number) }),
    );
  });
});

/** An operator changes a key's own limits in place: its clients keep their secret. */
describe("changing an API key's limits", () => {
  let stack: TestStack;
  let api: ReturnType<typeof adminClient>;
  beforeAll(async () => {
    stack = await startTestStack({ env: { ALLOWED_MODELS: OTHER_MODEL } });
    api = adminClient(stack);
  });
  afterAll(() => stack.close());

  const call = async (key: string, model = 'claude-sonnet-4-6') => {
    const response = await api.send(
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      'POST',
      '/v1/messages',
      { model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
    );
    return { status: response.status, answer: await json(response) };
  };
  const change = (id: string, body: unknown) => api.asAdmin('PATCH', `/v1/admin/keys/${id}`, body);
  const shown = async (id: string) => json(await api.asAdmin('GET', `/v1/admin/keys/${id}`));

  it("refuses a key's calls at once when its budget is lowered under what it spent, and admits them again once raised, its month intact", async () => {
    const { id, key } = await api.createKey({
      principal: 'lowered',
      monthlyBudgetUsd: 5,
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    expect((await call(key)).status).toBe(200);
    const before = await shown(id);
    expect(before.usage.costUsd).toBeGreaterThan(0);

    const lowered = await change(id, { monthlyBudgetUsd: before.usage.costUsd });
    expect(lowered.status).toBe(200);
    expect(await json(lowered)).toMatchObject({ id, monthlyBudgetUsd: before.usage.costUsd });
    const refused = await call(key);
    expect(refused.status).toBe(402);
    expect(refused.answer.error).toMatchObject({
      type: 'billing_error',
      message: expect.stringContaining('API key'),
    });
    expect((await change(id, { monthlyBudgetUsd: 1e-9 })).status).toBe(200);
    expect((await call(key)).status).toBe(402);
    const refusedMonth = await shown(id);
    expect(refusedMonth.usage).toStrictEqual(before.usage);

    const raised = await change(id, { monthlyBudgetUsd: 10 });
    expect(raised.status).toBe(200);
    expect((await call(key)).status).toBe(200);
    const after = await shown(id);
    expect(after.usage.requests).toBe(before.usage.requests + 1);
    expect(after.usage.heldUsd).toBe(0);
    const { usage: _before, monthlyBudgetUsd: _5, ...unchanged } = before;
    const { usage: _after, monthlyBudgetUsd, ...still } = after;
    expect(monthlyBudgetUsd).toBe(10);
    expect(still).toStrictEqual(unchanged);
    expect(still.lastUsedAt).toEqual(expect.any(String));

    expect((await change(id, { monthlyBudgetUsd: null })).status).toBe(200);
    expect((await shown(id)).monthlyBudgetUsd).toBeUndefined();
    expect((await call(key)).status).toBe(200);
  });

  it('refuses a model removed from the key at once, and admits every model again once the list is removed', async () => {
    const { id, key } = await api.createKey({ principal: 'narrowed' });
    expect((await call(key, OTHER_MODEL)).status).toBe(200);

    const narrowed = await change(id, {
      allowedModels: ['claude-sonnet-4-6', 'claude-sonnet-4-6'],
    });
    expect(narrowed.status).toBe(200);
    expect((await json(narrowed)).allowedModels).toEqual(['claude-sonnet-4-6']);
    const refused = await call(key, OTHER_MODEL);
    expect(refused.status).toBe(403);
    expect(refused.answer.error.type).toBe('permission_error');
    expect((await call(key)).status).toBe(200);

    expect((await change(id, { allowedModels: null })).status).toBe(200);
    expect((await call(key, OTHER_MODEL)).status).toBe(200);
  });

  it("sets and removes a key's own requests per minute (counted from the first call it binds)", async () => {
    const { id, key } = await api.createKey({ principal: 'slowed' });
    await awayFromMinuteEnd();

    expect((await change(id, { requestsPerMinute: 1 })).status).toBe(200);
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(429);

    const freed = await json(
      await change(id, { requestsPerMinute: null, tokensPerMinute: 50_000 }),
    );
    expect(freed.requestsPerMinute).toBeUndefined();
    expect(freed.tokensPerMinute).toBe(50_000);
    expect((await call(key)).status).toBe(200);
  });

  it('answers a revoked key with 409 and an unknown one with 404, changing neither', async () => {
    const { id } = await api.createKey({ principal: 'revoked-then-changed', monthlyBudgetUsd: 1 });
    await api.asAdmin('DELETE', `/v1/admin/keys/${id}`);

    const revoked = await change(id, { monthlyBudgetUsd: 100 });
    expect(revoked.status).toBe(409);
    expect((await json(revoked)).error.type).toBe('conflict_error');
    expect((await shown(id)).monthlyBudgetUsd).toBe(1);

    const unknown = await change(NO_SUCH_KEY, { monthlyBudgetUsd: 100 });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.type).toBe('not_found_error');
    expect((await shown(NO_SUCH_KEY).catch(() => undefined))?.id).toBeUndefined();
  });

  const invalid: Record<string, unknown> = {
    'nothing to change': {},
    'an unknown field': { monthlyBudgetUsd: 1, scopes: ['admin'] },
    'its expiry, which is not a limit': { expiresAt: '2099-01-01T00:00:00Z' },
    'a negative budget': { monthlyBudgetUsd: -1 },
    'a zero budget': { monthlyBudgetUsd: 0 },
    'a budget below a nano-dollar': { monthlyBudgetUsd: 1e-300 },
    'a budget as text': { monthlyBudgetUsd: 'NaN' },
    'a budget over the most a principal may have': { monthlyBudgetUsd: 9_000_001 },
    'a fractional rate': { requestsPerMinute: 1.5 },
    'a zero rate': { tokensPerMinute: 0 },
    'a model the deployment does not allow': { allowedModels: ['claude-imaginary-9'] },
    'no models': { allowedModels: [] },
    'a list that is no list': { allowedModels: 'claude-sonnet-4-6' },
    'a body that is no object': [{ monthlyBudgetUsd: 1 }],
  };
  it('takes a key budget as large as a principal may have (a key was capped at a million, a principal at nine)', async () => {
    const { id } = await api.createKey({ principal: 'big-spender', monthlyBudgetUsd: 9_000_000 });

    expect((await shown(id)).monthlyBudgetUsd).toBe(9_000_000);
  });

  for (const [name, body] of Object.entries(invalid)) {
    it(`answers a change with ${name} with 400, changing nothing`, async () => {
      const { id } = await api.createKey({ principal: 'invalidly-changed', monthlyBudgetUsd: 1 });

      const response = await change(id, body);

      expect(response.status).toBe(400);
      expect((await json(response)).error.type).toBe('invalid_request_error');
      expect((await shown(id)).monthlyBudgetUsd).toBe(1);
    });
  }

  it('answers a body that is not JSON, or a NaN, with 400', async () => {
    const { id } = await api.createKey({ principal: 'garbled', monthlyBudgetUsd: 1 });
    for (const raw of ['{"monthlyBudgetUsd": NaN}', '{"monthlyBudgetUsd": -Infinity}', '']) {
      const response = await fetch(`${stack.url}/v1/admin/keys/${id}`, {
        method: 'PATCH',
        headers: {
          ...bearer(await stack.token(ADMIN, { admin: true })),
          'content-type': 'application/json',
        },
        body: raw,
      });
      expect(response.status, raw).toBe(400);
    }
    expect((await shown(id)).monthlyBudgetUsd).toBe(1);
  });
});

describe('budgets and the usage report', () => {
  let stack: TestStack;
  let api: ReturnType<typeof adminClient>;
  beforeAll(async () => {
    stack = await startTestStack();
    api = adminClient(stack);
  });
  afterAll(() => stack.close());

  it("sets a principal's monthly budget, which the principal's usage then shows", async () => {
    const path = '/v1/admin/principals/budgeted/budget';
    expect(await json(await api.asAdmin('GET', path))).toEqual({
      principal: 'budgeted',
      monthlyBudgetUsd: 10,
      isDefault: true,
      month: monthOf(Date.now()),
      spentUsd: 0,
      remainingUsd: 10,
    });

    const set = await api.asAdmin('PUT', path, { monthlyBudgetUsd: 25 });
    expect(set.status).toBe(200);
    expect(await json(set)).toMatchObject({ monthlyBudgetUsd: 25, isDefault: false });
    expect(await json(await api.asAdmin('GET', path))).toMatchObject({
      monthlyBudgetUsd: 25,
      isDefault: false,
      remainingUsd: 25,
    });
    const usage = await json(await stack.request('budgeted', 'GET', '/v1/usage'));
    expect(usage).toMatchObject({ budgetUsd: 25, remainingUsd: 25 });
  });

  it('answers an invalid budget or principal with 400', async () => {
    for (const [principal, body] of [
      ['p', { monthlyBudgetUsd: -1 }],
      // More than nano-USD can count exactly: it was a 500.
      ['p', { monthlyBudgetUsd: 9_007_200 }],
      ['p', { monthlyBudgetUsd: 1_000_000_000 }],
      // Under half a nano-dollar it was stored as 0: the principal refused every call, unsaid.
      ['p', { monthlyBudgetUsd: 1e-10 }],
      ['p', { monthlyBudgetUsd: 5e-324 }],
      ['p', { monthlyBudgetUsd: '5' }],
      ['p', { monthlyBudgetUsd: 5, currency: 'EUR' }],
      ['p', {}],
      [encodeURIComponent('team#blue'), { monthlyBudgetUsd: 5 }],
      [encodeURIComponent('team/blue'), { monthlyBudgetUsd: 5 }],
    ] as const) {
      const response = await api.asAdmin('PUT', `/v1/admin/principals/${principal}/budget`, body);
      expect(response.status, `${principal} ${JSON.stringify(body)}`).toBe(400);
      expect((await json(response)).error.type).toBe('invalid_request_error');
    }
    for (const principal of ['team#blue', 'team/blue']) {
      const read = await api.asAdmin(
        'GET',
        `/v1/admin/principals/${encodeURIComponent(principal)}/budget`,
      );
      expect(read.status, principal).toBe(400);
    }
  });

  it('reports the month by principal, key and model', async () => {
    const response = await api.asAdmin('GET', '/v1/admin/usage');
    expect(response.status).toBe(200);
    const report = await json(response);
    expect(report).toEqual({
      month: monthOf(Date.now()),
      byPrincipal: expect.any(Array),
      byKey: expect.any(Array),
      byModel: expect.any(Array),
    });
  });

  it('reports the top N of a past month by cost, in USD', async () => {
    const records = new DynamoUsageRecords(stack.documentClient, stack.tableName);
    const spend = [
      ['frugal', 0.25],
      ['lavish', 3],
      ['average', 1],
    ] as const;
    for (const [principal, usd] of spend) {
      await records.record({
        requestId: `req-${principal}`,
        at: '2025-11-15T12:00:00.000Z',
        principal,
        api: 'messages',
        model: 'claude-sonnet-4-6',
        usage: { ...ZERO_USAGE, inputTokens: 100, outputTokens: 10 },
        costNanoUsd: usdToNano(usd),
        latencyMs: 50,
        cacheHit: false,
      });
    }
    const report = await json(await api.asAdmin('GET', '/v1/admin/usage?month=2025-11&top=2'));
    expect(report.month).toBe('2025-11');
    expect(report.byPrincipal.map((row: { name: string }) => row.name)).toEqual([
      'lavish',
      'average',
    ]);
    expect(report.byPrincipal[0]).toMatchObject({ requests: 1, inputTokens: 100, costUsd: 3 });
    expect(report.byKey).toEqual([]);
    expect(report.byModel).toEqual([
      expect.objectContaining({ name: 'claude-sonnet-4-6', requests: 3, costUsd: 4.25 }),
    ]);
  });

  it('answers an invalid month or top with 400', async () => {
    for (const query of ['month=2026-13', 'month=2026-1', 'month=last', 'top=0', 'top=abc']) {
      const response = await api.asAdmin('GET', `/v1/admin/usage?${query}`);
      expect(response.status, query).toBe(400);
      expect((await json(response)).error.type).toBe('invalid_request_error');
    }
    const garbage = await json(await api.asAdmin('GET', '/v1/admin/usage?month=garbage'));
    expect(garbage.error.message).toBe('month: a month as yyyy-mm, e.g. 2026-11');
  });
});

describe('npm run token', () => {
  const { JWT_SECRET: _ignored, ...env } = process.env;
  const token = (...args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'local-stack/token.ts', ...args], { cwd: REPO_ROOT, env });

  it('mints, with --admin, a token whose payload carries groups: ["admin"]', async () => {
    const { stdout } = await token('alice', '--admin');
    const jwt = stdout.trim();
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeJwt(jwt)).toMatchObject({ sub: 'alice', groups: ['admin'] });

    const plain = decodeJwt((await token('alice')).stdout.trim());
    expect(plain.sub).toBe('alice');
    expect(plain).not.toHaveProperty('groups');
  });

  it('signs with JWT_SECRET, and names JWT_ISSUER and JWT_AUDIENCE when they are set, as a deployment that checks them needs', async () => {
    const secret = 'a-deployment-secret-of-enough-length';
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'local-stack/token.ts', 'ops'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        JWT_SECRET: secret,
        JWT_ISSUER: 'https://issuer.example',
        JWT_AUDIENCE: 'claude-api',
      },
    });

    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(secret), {
      issuer: 'https://issuer.example',
      audience: 'claude-api',
    });
    expect(payload.sub).toBe('ops');
  });

  it("exits with 2 for a user id the gateway refuses in a token: an IAM admin's", async () => {
    const failure = await token('iam:arn:aws:iam::123456789012:role_ops').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('not starting with iam:');
  });

  it('exits with 2 and the usage on an unknown flag', async () => {
    const failure = await token('alice', '--bogus').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('usage: npm run --silent token');
  });
});
