import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import {
  type DynamoDbCall,
  recordDynamoDbCalls,
  sequentialRoundTrips,
} from './support/dynamodb-calls.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from './support/fake-secrets-manager.js';
import { answerText, collectSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const SECRET_ARNS = {
  anthropicApiKey: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:anthropic-api-key-AbCdEf',
  jwtSecret: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt-secret-AbCdEf',
  signingKey: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:signing-key-AbCdEf',
} as const;

/** About what a Secrets Manager round trip takes on AWS. */
const SECRETS_MANAGER_LATENCY_MS = 40;

/**
 * What a new instance's first turn waits for, one after another, before Claude gets its call:
 * on AWS each remote call then also opens its connection (TCP and TLS). The secrets it needs
 * (the token's, the Anthropic key) are read as the function loads, not each behind the
 * remote call before it; a read that fails then is left to the request.
 */
describe("a new instance's first turn", () => {
  let secrets: FakeSecretsManager | undefined;
  let stack: TestStack | undefined;
  let issuer: Server | undefined;
  afterEach(async () => {
    await stack?.close();
    await secrets?.close();
    issuer?.closeAllConnections();
    await new Promise((resolve) => (issuer ? issuer.close(resolve) : resolve(undefined)));
    stack = undefined;
    secrets = undefined;
    issuer = undefined;
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  });

  /** A chat function that has just started, reading its secrets from Secrets Manager. */
  async function newInstance(
    failing?: FakeSecretsManager['failing'],
    options: { held?: Promise<void>; onVerify?: () => void } = {},
  ) {
    secrets = await startFakeSecretsManager(
      {
        [SECRET_ARNS.anthropicApiKey]: LOCAL_STACK.localClaudeApiKey,
        [SECRET_ARNS.jwtSecret]: LOCAL_STACK.jwtSecret,
        [SECRET_ARNS.signingKey]: LOCAL_STACK.signingKey,
      },
      { latencyMs: SECRETS_MANAGER_LATENCY_MS },
    );
    secrets.failing = failing;
    secrets.held = options.held;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    const dynamoDbCalls: DynamoDbCall[] = [];
    stack = await startTestStack({
      maintenance: false,
      observeChatDynamoDb: (client) => recordDynamoDbCalls(client, dynamoDbCalls),
      ...(options.onVerify && {
        customizeChat: (adapters) => ({
          ...adapters,
          verifier: {
            verify: (authorization) => {
              options.onVerify?.();
              return adapters.verifier.verify(authorization);
            },
          },
        }),
      }),
      env: {
        ANTHROPIC_API_KEY_SECRET_ARN: SECRET_ARNS.anthropicApiKey,
        JWT_SECRET_ARN: SECRET_ARNS.jwtSecret,
        SIGNING_KEY_SECRET_ARN: SECRET_ARNS.signingKey,
      },
    });
    return { stack, secrets, dynamoDbCalls };
  }

  const readsOf = (fake: FakeSecretsManager, arn: string) =>
    fake.reads.filter((read) => read.secretId === arn);

  it('waits for no secret read behind its admission: the reads overlap it or are done before', async () => {
    const { stack, secrets, dynamoDbCalls } = await newInstance();

    const sentAt = performance.timeOrigin + performance.now();
    const response = await stack.chat('alice', { message: 'Hello on a cold instance' });
    expect(response.status).toBe(200);
    expect(answerText(await collectSse(response))).not.toBe('');

    const modelCalledAt = stack.claude.requests.at(-1)!.receivedAt + 1;
    const admission = dynamoDbCalls.filter((call) => call.operation === 'UpdateItem');
    const admissionStartedAt = Math.min(...admission.map((call) => call.startedAt));
    // Each secret the turn used was read once, and that read began before the admission did.
    for (const arn of [SECRET_ARNS.jwtSecret, SECRET_ARNS.anthropicApiKey]) {
      const reads = readsOf(secrets, arn);
      expect(reads, arn).toHaveLength(1);
      expect(reads[0]!.startedAt, arn).toBeLessThan(admissionStartedAt);
    }
    // The cursors' key is for a listing's next page: not read for a turn.
    expect(readsOf(secrets, SECRET_ARNS.signingKey)).toEqual([]);
    // One after another, from the request to the model call: the admission's DynamoDB round
    // trips (a deployment's first of the month has more), and at most the token's secret, when
    // its read ahead had not ended as the request came. Read after the admission, the Anthropic
    // key made one more.
    const onTheWay = <T extends { endedAt: number }>(calls: T[]) =>
      calls.filter((call) => call.endedAt > sentAt && call.endedAt <= modelCalledAt);
    const secretReads = secrets.reads.map((read) => ({ operation: read.secretId, ...read }));
    expect(sequentialRoundTrips(onTheWay([...secretReads, ...dynamoDbCalls]))).toBeLessThanOrEqual(
      sequentialRoundTrips(onTheWay(dynamoDbCalls)) + 1,
    );
  });

  it('finds its connection to Claude open: opened as the function loads, not by the model call', async () => {
    const { stack } = await newInstance();

    const response = await stack.chat('alice', { message: 'Hello on a cold instance' });
    await collectSse(response);

    const [opening, ...calls] = stack.claude.requests;
    expect(opening).toMatchObject({ method: 'GET', path: '/' });
    expect(opening!.headers['x-api-key']).toBeUndefined();
    expect(calls.map((call) => [call.path, call.connection])).toEqual([
      ['/v1/messages', opening!.connection],
    ]);
  });

  it('through /v1/messages, reads the Anthropic key before its admission as well', async () => {
    const { stack, secrets, dynamoDbCalls } = await newInstance();

    const response = await stack.request('alice', 'POST', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Hello on a cold instance' }],
    });

    expect(response.status).toBe(200);
    await response.json();
    const admissionStartedAt = Math.min(
      ...dynamoDbCalls.filter((call) => call.operation === 'UpdateItem').map((c) => c.startedAt),
    );
    const keyReads = readsOf(secrets, SECRET_ARNS.anthropicApiKey);
    expect(keyReads).toHaveLength(1);
    expect(keyReads[0]!.startedAt).toBeLessThan(admissionStartedAt);
  });

  it("with an OIDC issuer, reads its key set as it loads: the token's check waits on no read of its own", async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const keySetReads: number[] = [];
    issuer = createServer((_, response) => {
      keySetReads.push(performance.timeOrigin + performance.now());
      response.setHeader('content-type', 'application/json');
      setTimeout(() => response.end(JSON.stringify({ keys: [jwk] })), SECRETS_MANAGER_LATENCY_MS);
    });
    await new Promise<void>((resolve) => issuer!.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}/jwks.json`;
    let verifiedAt = Number.POSITIVE_INFINITY;
    stack = await startTestStack({
      maintenance: false,
      env: {
        AUTH_MODE: 'oidc',
        JWT_ISSUER: 'https://issuer.example',
        JWT_AUDIENCE: 'app',
        JWKS_URL: jwksUrl,
      },
      customizeChat: (adapters) => ({
        ...adapters,
        verifier: {
          verify: (authorization) => {
            verifiedAt = Math.min(verifiedAt, performance.timeOrigin + performance.now());
            return adapters.verifier.verify(authorization);
          },
        },
      }),
    });
    const token = await new SignJWT({
      sub: 'oidc-alice',
      iss: 'https://issuer.example',
      aud: 'app',
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(privateKey);

    const response = await fetch(`${stack.url}/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Hello on a cold instance' }),
    });

    expect(response.status).toBe(200);
    expect(answerText(await collectSse(response))).not.toBe('');
    expect(keySetReads).toHaveLength(1);
    expect(keySetReads[0]).toBeLessThan(verifiedAt);
  });

  it('reads a secret again when its read ahead failed, and answers', async () => {
    const { stack, secrets } = await newInstance('denied');
    await expect
      .poll(() => secrets.reads.filter((read) => read.failed).length, { timeout: 10_000 })
      .toBe(2);
    secrets.failing = undefined;

    const response = await stack.chat('alice', { message: 'Hello after a failed read' });

    expect(response.status).toBe(200);
    expect(answerText(await collectSse(response))).not.toBe('');
    for (const arn of [SECRET_ARNS.jwtSecret, SECRET_ARNS.anthropicApiKey]) {
      expect(readsOf(secrets, arn).map((read) => read.failed)).toEqual([true, false]);
    }
  });

  it('answers 503 while Secrets Manager fails, as any request would, and lives on', async () => {
    const { stack, secrets } = await newInstance('unavailable');

    const refused = await stack.chat('alice', { message: 'Hello while it is down' });

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    await refused.text();
    secrets.failing = undefined;
    const answered = await stack.chat('alice', { message: 'Hello once it is back' });
    expect(answered.status).toBe(200);
    expect(answerText(await collectSse(answered))).not.toBe('');
  });

  it('answers 503 when the read ahead its token waited for fails, with no read of its own', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let verifying = false;
    const { stack, secrets } = await newInstance('unavailable', {
      held,
      onVerify: () => {
        verifying = true;
      },
    });

    const answer = stack.chat('alice', { message: 'Hello while it is down' });
    // The first request waits for the function to load (the whole of it, first in a file).
    await expect.poll(() => verifying, { timeout: 20_000 }).toBe(true);
    release();
    const refused = await answer;

    expect(refused.status).toBe(503);
    await refused.text();
    // The read ahead's attempts alone, as many as the Anthropic key's (which no request read, and
    // whose last may still be under way): the request waited for them rather than making as many
    // again on a failing service.
    const tokenSecretReads = readsOf(secrets, SECRET_ARNS.jwtSecret).length;
    expect(tokenSecretReads).toBeGreaterThan(0);
    await expect
      .poll(() => readsOf(secrets, SECRET_ARNS.anthropicApiKey).length)
      .toBe(tokenSecretReads);
  });
});
