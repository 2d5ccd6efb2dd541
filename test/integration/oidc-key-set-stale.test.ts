import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAILED_READ_BACKOFF_MS } from '../../shared/auth/issuer-key-set.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const ISSUER = 'https://issuer.example';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** How the issuer's JWKS endpoint answers, set by the test. */
type KeySetAnswer =
  | 'the first key set'
  | 'the rotated key set'
  | '500'
  | 'a dropped connection'
  | 'garbage';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function issuerKey(kid: string): Promise<{ privateKey: PrivateKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } };
}

describe('a warm deployment whose OIDC issuer stops answering for its key set', () => {
  let stack: TestStack;
  let issuerKeys: Server;
  let answer: KeySetAnswer = 'the first key set';
  let reads = 0;
  let first: Awaited<ReturnType<typeof issuerKey>>;
  let rotated: Awaited<ReturnType<typeof issuerKey>>;

  beforeAll(async () => {
    first = await issuerKey('k1');
    rotated = await issuerKey('k2');
    issuerKeys = createServer((request, response) => {
      reads++;
      if (answer === 'a dropped connection') return request.socket.destroy();
      if (answer === '500') {
        response.statusCode = 500;
        return response.end('{"error":"down"}');
      }
      if (answer === 'garbage') return response.end('<html>bad gateway</html>');
      const keys = answer === 'the first key set' ? [first.publicJwk] : [rotated.publicJwk];
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => issuerKeys.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(issuerKeys.address() as AddressInfo).port}/jwks.json`;
    stack = await startTestStack({
      env: { AUTH_MODE: 'oidc', JWT_ISSUER: ISSUER, JWT_AUDIENCE: 'app', JWKS_URL: jwksUrl },
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await stack.close();
    issuerKeys.closeAllConnections();
    await new Promise((resolve) => issuerKeys.close(resolve));
  });

  const issuerToken = (key: { privateKey: PrivateKey }, kid: string) =>
    new SignJWT({ sub: 'oidc-user', iss: ISSUER, aud: 'app' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
  const listConversations = async (token: string) =>
    fetch(`${stack.url}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });

  it('keeps admitting good tokens with the key set last read for up to a day, reading it again all along, answers 503 to a key rotated in meanwhile, and uses the new set once the issuer answers', async () => {
    // Only Date is faked: jose dates its key set with Date.now(), the stack's timers run.
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.now();
    const later = (ms: number) => {
      now += ms;
      vi.setSystemTime(now);
    };
    later(0);
    expect((await listConversations(await issuerToken(first, 'k1'))).status).toBe(200);

    for (const failure of ['500', 'a dropped connection', 'garbage'] as const) {
      answer = failure;
      later(11 * MINUTE_MS); // past jose's 10 minutes: the set is due to be read again
      const readsBefore = reads;

      const response = await listConversations(await issuerToken(first, 'k1'));

      expect(response.status, `while the JWKS answers ${failure}`).toBe(200);
      await vi.waitFor(() => expect(reads, 'the set read again').toBeGreaterThan(readsBefore));
    }
    // A key the issuer rotated in while its set could not be read: not the token's fault.
    const unknownKey = await listConversations(await issuerToken(rotated, 'k2'));
    expect(unknownKey.status).toBe(503);
    expect(unknownKey.headers.get('retry-after')).toBe('1');
    expect((await json(unknownKey)).error.type).toBe('api_error');

    answer = 'the rotated key set';
    // The issuer answering again, a token past the pause after a failed read has the set read
    // again: its key is taken, and the key withdrawn refused. Once in about twenty runs on a
    // loaded machine one of them answered otherwise (not reproduced since): each is given three
    // pauses, and the answers are kept for the message.
    const answersTo = async (key: typeof first, kid: string, expected: number) => {
      const before: string[] = [];
      for (let tries = 0; tries < 3; tries++) {
        later(FAILED_READ_BACKOFF_MS);
        const response = await listConversations(await issuerToken(key, kid));
        if (response.status === expected) return { status: expected, before };
        before.push(`${response.status} ${await response.text()}`);
      }
      return { status: undefined, before };
    };
    expect(await answersTo(rotated, 'k2', 200)).toMatchObject({ status: 200 });
    expect(await answersTo(first, 'k1', 401)).toMatchObject({ status: 401 });

    answer = '500';
    later(24 * HOUR_MS + MINUTE_MS);
    const tooOld = await listConversations(await issuerToken(rotated, 'k2'));
    expect(tooOld.status).toBe(503);
    expect(tooOld.headers.get('retry-after')).toBe('1');
  });
});
