import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChatAppDependencies, createChatApp } from '../../../../functions/chat/app.js';
import { untraced } from '../../../../functions/chat/observability/request-tracer.js';
import { createLambdaContext } from '../../../../local-stack/lambda-runtime/context.js';
import { buildFunctionUrlEvent } from '../../../../local-stack/lambda-runtime/function-url-event.js';
import { createApiKeyAuthenticator } from '../../../../shared/auth/api-key-authenticator.js';
import { createCredentialVerifier } from '../../../../shared/auth/credentials.js';
import { hs256Verifier } from '../../../../shared/auth/token-verifier.js';
import { InMemoryApiKeyStore } from '../../../fakes/in-memory-api-key-store.js';

const SECRET = 'a-test-signing-secret-of-enough-length';
const CONVERSATION = `conv_${'a'.repeat(32)}`;
const JOB = `job_${'b'.repeat(32)}`;

/** Every route of the API but GET /health. */
const PROTECTED = [
  ['POST', '/v1/chat'],
  ['POST', '/v1/ui/chat'],
  ['GET', '/v1/ui/chat/a-chat/stream'],
  ['GET', '/v1/ui/chat/a-chat/messages'],
  ['GET', '/v1/conversations'],
  ['GET', `/v1/conversations/${CONVERSATION}`],
  ['GET', `/v1/conversations/${CONVERSATION}/stream`],
  ['POST', `/v1/conversations/${CONVERSATION}/regenerate`],
  ['DELETE', `/v1/conversations/${CONVERSATION}`],
  ['POST', `/v1/conversations/${CONVERSATION}/stop`],
  ['GET', '/v1/usage'],
  ['POST', '/v1/jobs'],
  ['GET', `/v1/jobs/${JOB}`],
  ['GET', '/v1/jobs'],
  ['POST', `/v1/jobs/${JOB}/cancel`],
  ['POST', '/v1/messages'],
  ['POST', '/v1/messages/count_tokens'],
  ['GET', '/v1/models'],
  ['GET', '/v1/models/claude-sonnet-4-6'],
  ['POST', '/v1/admin/keys'],
  ['GET', '/v1/admin/keys'],
  ['DELETE', `/v1/admin/keys/key_${'c'.repeat(32)}`],
  ['PATCH', `/v1/admin/keys/key_${'c'.repeat(32)}`],
  ['GET', '/v1/admin/usage'],
  ['PUT', '/v1/admin/principals/alice/budget'],
] as const;

/**
 * The app with no working ports: the requests below are answered before any handler
 * would use one (a missing token, an id that names nothing).
 */
function createApp(authTokenHeader: string, adminIamPrincipals: readonly string[] = []) {
  const unused = {} as never;
  const logger = new Logger({ serviceName: 'chat', logLevel: 'SILENT' });
  const deps: ChatAppDependencies = {
    logger,
    createMetrics: () => new Metrics({ namespace: 'AppTest', serviceName: 'chat' }),
    tracer: untraced,
    credentials: createCredentialVerifier({
      tokens: hs256Verifier({ maxLifetimeSeconds: 3600, secret: async () => SECRET }),
      apiKeys: createApiKeyAuthenticator({
        store: new InMemoryApiKeyStore(),
        clock: Date.now,
        onTouchFailed: () => {},
      }),
    }),
    authentication: { tokenHeader: authTokenHeader, adminIamPrincipals },
    healthChecks: {},
    chatTurn: unused,
    observeTurn: () => unused,
    submitJob: unused,
    cancelJob: unused,
    recover: unused,
    followTurn: unused,
    store: unused,
    ledger: unused,
    jobs: unused,
    forwardMessages: unused,
    observeMessages: () => unused,
    countTokens: unused,
    models: unused,
    issueApiKey: unused,
    apiKeys: unused,
    noteApiKeyRevoked: unused,
    changeApiKeyLimits: unused,
    noteApiKeyChanged: unused,
    usageRecords: unused,
    clock: () => Date.parse('2026-11-15T00:00:00Z'),
    limits: { maxMessageChars: 1000, pingIntervalMs: 15_000, userMonthlyBudgetUsd: 10 },
  };
  return createChatApp(deps);
}

async function send(
  app: ReturnType<typeof createApp>,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  iamCaller?: string,
) {
  const event = buildFunctionUrlEvent(
    {
      method,
      url,
      rawHeaders: Object.entries({ host: 'abc.lambda-url.us-east-1.on.aws', ...headers }).flat(),
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.7',
      port: 443,
      protocol: 'HTTP/1.1',
    },
    { urlId: 'abc', requestId: randomUUID(), receivedAt: new Date() },
  );
  // What an AWS_IAM function URL adds once SigV4 named the caller.
  if (iamCaller)
    Object.assign(event.requestContext, { authorizer: { iam: { userArn: iamCaller } } });
  return app.resolve(event, createLambdaContext({ functionName: 'chat', timeoutMs: 30_000 }));
}

describe('the chat app', () => {
  let token: string;

  beforeAll(async () => {
    token = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
  });

  it('leaves only GET /health unauthenticated', async () => {
    const app = createApp('authorization');
    expect((await send(app, 'GET', '/health')).statusCode).toBe(200);
    for (const [method, path] of PROTECTED) {
      const response = await send(app, method, path);
      expect(response.statusCode, `${method} ${path}`).toBe(401);
    }
  });

  it('takes a SigV4 caller for an admin when adminIamPrincipals lists it or its role', async () => {
    const app = createApp('x-user-authorization', ['arn:aws:iam::123456789012:role/ops/Admin']);
    // Not a key id at all: answered 404 once the caller is an admin, before any store is asked.
    const unknownKey = '/v1/admin/keys/not*a*key';
    const session = (role: string) => `arn:aws:sts::123456789012:assumed-role/${role}/jane`;
    expect((await send(app, 'DELETE', unknownKey, {}, session('Admin'))).statusCode).toBe(404);
    expect((await send(app, 'DELETE', unknownKey, {}, session('Reader'))).statusCode).toBe(401);
  });

  it('reads the token from the configured header only (x-user-authorization behind SigV4)', async () => {
    const app = createApp('x-user-authorization');
    // Not a job id at all: answered 404 before any store is asked.
    const unknownJob = '/v1/jobs/not*a*job';
    expect(
      (await send(app, 'GET', unknownJob, { authorization: `Bearer ${token}` })).statusCode,
    ).toBe(401);
    expect(
      (await send(app, 'GET', unknownJob, { 'x-user-authorization': `Bearer ${token}` }))
        .statusCode,
    ).toBe(404);
  });
});
