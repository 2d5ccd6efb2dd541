import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAILED_READ_BACKOFF_MS } from '../../shared/auth/issuer-key-set.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const ISSUER = 'https://issuer.example';

/** How the issuer's JWKS endpoint answers, set by each test. */
type KeySetAnswer = 'the key set' | 'JSON that is no key set' | 'a dropped connection';

describe('a deployment verifying tokens against an OIDC issuer', () => {
  let stack: TestStack;
  let issuerKeys: Server;
  let answer: KeySetAnswer = 'the key set';
  let reads = 0;
  // Only Date is faked, each test starting past the pause that follows a failed read.
  let now = Date.now();
  const pastPauseAfterFailedRead = () => {
    now += FAILED_READ_BACKOFF_MS;
    vi.setSystemTime(now);
  };
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let publicJwk: JWK;

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    issuerKeys = createServer((request, response) => {
      reads++;
      if (answer === 'a dropped connection') return request.socket.destroy();
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(answer === 'the key set' ? { keys: [publicJwk] } : {}));
    });
    await new Promise<void>((resolve) => issuerKeys.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(issuerKeys.address() as AddressInfo).port}/jwks.json`;
    // The function reads the key set as it starts: that read fails, so the first tests find
    // no set ever read.
    answer = 'a dropped connection';
    let readAhead: Promise<void> | undefined;
    stack = await startTestStack({
      env: { AUTH_MODE: 'oidc', JWT_ISSUER: ISSUER, JWT_AUDIENCE: 'app', JWKS_URL: jwksUrl },
      customizeChat: (adapters) => {
        readAhead = adapters.secretsReadAhead;
        return adapters;
      },
    });
    await readAhead;
    expect(reads).toBe(1);
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    pastPauseAfterFailedRead();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await stack.close();
    issuerKeys.closeAllConnections();
    await new Promise((resolve) => issuerKeys.close(resolve));
  });

  const issuerToken = (kid = 'k1') =>
    new SignJWT({ sub: 'oidc-user', iss: ISSUER, aud: 'app' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const listConversations = async (token: string) =>
    fetch(`${stack.url}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });

  // Before the key set is ever read: a key set read once is kept for minutes.
  for (const failure of ['JSON that is no key set', 'a dropped connection'] as const) {
    it(`answers a good token with 503 and retry-after, not 401 or 500, while the JWKS answers ${failure}`, async () => {
      answer = failure;
      const readsBefore = reads;

      const response = await listConversations(await issuerToken());

      expect(reads).toBe(readsBefore + 1);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect((await json(response)).error.type).toBe('api_error');
    });
  }

  it('reads the key set at most once in 5 s while it fails, answering 503 at once meanwhile', async () => {
    answer = 'a dropped connection';
    const readsBefore = reads;

    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await listConversations(await issuerToken())).status);
    }
    pastPauseAfterFailedRead();
    statuses.push((await listConversations(await issuerToken())).status);

    expect(statuses).toEqual([503, 503, 503, 503]);
    expect(reads).toBe(readsBefore + 2);
  });

  it('has the Anthropic SDK retry a /v1/messages call refused for want of the key set, not drop its key', async () => {
    answer = 'JSON that is no key set';
    const client = new Anthropic({
      apiKey: await issuerToken(),
      baseURL: stack.url,
      maxRetries: 0,
    });

    const error = await client.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(error).toMatchObject({ status: 503 });
  });

  it("admits the issuer's token once the key set is back, and still refuses a token of a key it lacks", async () => {
    answer = 'the key set';

    expect((await listConversations(await issuerToken())).status).toBe(200);
    const unknownKey = await listConversations(await issuerToken('not-a-key-of-the-issuer'));
    expect(unknownKey.status).toBe(401);
    expect((await json(unknownKey)).error.type).toBe('authentication_error');
  });
});
