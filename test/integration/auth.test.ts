import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import { secretSource } from '../../shared/adapters/secrets.js';
import { hs256Verifier } from '../../shared/auth/token-verifier.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const secret = new TextEncoder().encode(LOCAL_STACK.jwtSecret);
/** Validly signed with the stack's secret: only its claims can be wrong. */
const signed = (claims: Record<string, unknown>, expiresIn = '5m') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(secret);

describe('authentication', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  const tokens: Record<string, () => Promise<string | undefined>> = {
    missing: async () => undefined,
    malformed: async () => 'Bearer abc.def',
    'not bearer': async () => `Basic ${Buffer.from('a:b').toString('base64')}`,
    // Past the 30 s the issuer's clock may be off by.
    expired: async () =>
      `Bearer ${await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(Date.now() / 1000) - 40)
        .sign(secret)}`,
    'not yet valid': async () =>
      `Bearer ${await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setNotBefore(Math.floor(Date.now() / 1000) + 40)
        .setExpirationTime('5m')
        .sign(secret)}`,
    'wrongly signed': async () =>
      `Bearer ${await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('not-the-secret'))}`,
    'alg none': async () =>
      `Bearer ${new UnsecuredJWT({ sub: 'u' }).setExpirationTime('5m').encode()}`,
    'sub-is-an-array': async () => `Bearer ${await signed({ sub: ['victim'] })}`,
    'sub-is-a-number': async () => `Bearer ${await signed({ sub: 42 })}`,
    'sub-is-an-object': async () => `Bearer ${await signed({ sub: { id: 'victim' } })}`,
    'no exp': async () =>
      `Bearer ${await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(secret)}`,
    'year-long': async () => `Bearer ${await signed({ sub: 'u' }, '365d')}`,
  };

  for (const [name, header] of Object.entries(tokens)) {
    it(`answers a ${name} token with 401 authentication_error and no model call`, async () => {
      const before = stack.claude.requests.length;
      const authorization = await header();
      const response = await fetch(`${stack.url}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: JSON.stringify({ message: 'hi' }),
      });
      expect(response.status).toBe(401);
      expect((await json(response)).error.type).toBe('authentication_error');
      // RFC 6750: a bare challenge without credentials, invalid_token for refused ones.
      expect(response.headers.get('www-authenticate')).toBe(
        name === 'missing' || name === 'not bearer'
          ? 'Bearer realm="api"'
          : 'Bearer error="invalid_token"',
      );
      expect(stack.claude.requests.length).toBe(before);
    });
  }

  it('takes a token from an issuer whose clock is a few seconds off ours, either way', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      // Issued "now" by a clock 5 s ahead, used at once.
      await new SignJWT({ sub: 'skewed' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(now + 5)
        .setNotBefore(now + 5)
        .setExpirationTime(now + 305)
        .sign(secret),
      // Its last seconds by a clock 5 s behind.
      await new SignJWT({ sub: 'skewed' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(now - 5)
        .sign(secret),
    ]) {
      const response = await fetch(`${stack.url}/v1/usage`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    }
  });

  it('protects every route but /health', async () => {
    for (const [method, path] of [
      ['POST', '/v1/chat'],
      ['GET', '/v1/conversations'],
      ['GET', `/v1/conversations/conv_${'0'.repeat(32)}`],
      ['DELETE', `/v1/conversations/conv_${'0'.repeat(32)}`],
      ['POST', `/v1/conversations/conv_${'0'.repeat(32)}/stop`],
      ['GET', '/v1/usage'],
      ['POST', '/v1/jobs'],
      ['GET', `/v1/jobs/job_${'0'.repeat(32)}`],
    ]) {
      const response = await fetch(`${stack.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe('tenant isolation', () => {
  let stack: TestStack;
  let conversationId: string;
  beforeAll(async () => {
    stack = await startTestStack();
    const events = await collectSse(await stack.chat('owner', { message: 'private things' }));
    conversationId = String(events[0]!.data.conversationId);
  });
  afterAll(() => stack.close());

  it("answers another user's conversation id with 404 on every route", async () => {
    const path = `/v1/conversations/${conversationId}`;
    for (const [method, url, body] of [
      ['GET', path, undefined],
      ['DELETE', path, undefined],
      ['POST', `${path}/stop`, undefined],
      ['POST', '/v1/chat', { conversationId, message: 'let me in' }],
      ['POST', `${path}/regenerate`, {}],
      ['GET', `${path}/stream`, undefined],
    ] as const) {
      const response = await stack.request('intruder', method, url, body);
      expect(response.status, `${method} ${url}`).toBe(404);
      expect((await json(response)).error.type).toBe('not_found_error');
    }
  });

  it("answers another user's job id with 404, as an unknown one, and leaves the job as it is", async () => {
    const submitted = await stack.request('owner', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A private document.',
      jobId: 'private-job',
    });
    expect(submitted.status).toBe(202);
    for (const [method, url] of [
      ['GET', '/v1/jobs/private-job'],
      ['POST', '/v1/jobs/private-job/cancel'],
    ] as const) {
      const response = await stack.request('intruder', method, url);
      expect(response.status, `${method} ${url}`).toBe(404);
      expect((await json(response)).error.type).toBe('not_found_error');
    }
    const theirs = await json(await stack.request('intruder', 'GET', '/v1/jobs'));
    expect(theirs.jobs).toEqual([]);
    const job = await json(await stack.request('owner', 'GET', '/v1/jobs/private-job'));
    expect(job.status).toBe('queued');
  });

  it("never lists another user's conversations", async () => {
    const theirs = await json(await stack.request('intruder', 'GET', '/v1/conversations'));
    expect(theirs.conversations).toEqual([]);
    const mine = await json(await stack.request('owner', 'GET', '/v1/conversations'));
    expect(mine.conversations.map((c: { id: string }) => c.id)).toEqual([conversationId]);
  });

  it("refuses a page cursor made for another user's listing", async () => {
    for (let i = 0; i < 2; i++)
      await collectSse(await stack.chat('owner', { message: `more ${i}` }));
    const page = await json(await stack.request('owner', 'GET', '/v1/conversations?limit=1'));
    expect(page.nextCursor).toBeDefined();
    const stolen = await stack.request(
      'intruder',
      'GET',
      `/v1/conversations?limit=1&cursor=${page.nextCursor}`,
    );
    expect(stolen.status).toBe(400);
    expect((await json(stolen)).error.type).toBe('invalid_request_error');
  });
});

describe('a deployment whose function URL uses AWS_IAM', () => {
  it('reads the bearer token from the configured header, since SigV4 takes Authorization', async () => {
    const stack = await startTestStack({ env: { AUTH_TOKEN_HEADER: 'X-User-Authorization' } });
    try {
      const token = await stack.token('iam-user');
      const signedLikeSigV4 = {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request',
      };
      const withToken = await fetch(`${stack.url}/v1/usage`, {
        headers: { ...signedLikeSigV4, 'x-user-authorization': `Bearer ${token}` },
      });
      expect(withToken.status).toBe(200);
      const withoutToken = await fetch(`${stack.url}/v1/usage`, { headers: signedLikeSigV4 });
      expect(withoutToken.status).toBe(401);
    } finally {
      await stack.close();
    }
  });
});

describe('a deployment whose JWT signing secret cannot be read', () => {
  it('answers a token with 503 and retry-after, not 401, while Secrets Manager throttles', async () => {
    // Secrets Manager as it answers when throttling, every time.
    const secretsManager = createServer((request, response) => {
      request.resume();
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
    });
    await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
    const stack = await startTestStack({
      customizeChat: (adapters) => ({
        ...adapters,
        verifier: hs256Verifier({
          maxLifetimeSeconds: 3600,
          secret: secretSource({
            name: 'JWT signing secret',
            arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt-AbCdEf',
            provider: () =>
              new SecretsProvider({
                awsSdkV3Client: new SecretsManagerClient({ endpoint, maxAttempts: 1 }),
              }),
          }),
        }),
      }),
    });
    try {
      const response = await fetch(`${stack.url}/v1/usage`, {
        headers: { authorization: `Bearer ${await stack.token('patient-user')}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect((await json(response)).error.type).toBe('api_error');
    } finally {
      await stack.close();
      await new Promise((resolve) => secretsManager.close(resolve));
    }
  });
});
