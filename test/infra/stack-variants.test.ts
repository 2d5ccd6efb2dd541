import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  environmentOf,
  logicalId,
  type Synthesized,
  statementsOfRole,
  synthesize,
} from './synth.js';

describe('with OIDC, an imported key, an IAM-authenticated URL, CORS, no tracing and source maps', () => {
  const importedKeyArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic-AbCdEf';
  let other: Synthesized;

  beforeAll(() => {
    other = synthesize({
      context: {
        authMode: 'oidc',
        jwtIssuer: 'https://issuer.example',
        jwtAudience: 'claude-api',
        anthropicApiKeySecretArn: importedKeyArn,
        functionUrlAuthType: 'AWS_IAM',
        corsAllowedOrigins: 'https://app.example,https://admin.example',
        chatReservedConcurrency: '40',
        removalPolicy: 'destroy',
        tableDeletionProtection: 'false',
        tracing: 'false',
        sourceMaps: 'true',
        errorRateAlarmMinFailures: '10',
        workerTimeoutSeconds: '900',
      },
    });
  });

  it('gives the worker the timeout asked for, and the jobs queue six of it and the batching window', () => {
    const workerId = logicalId(other.stack, other.stack.jobs.worker.function.functionName);
    const queueId = logicalId(other.stack, other.stack.jobs.queue.queueUrl);
    expect(other.json.Resources[workerId]?.Properties?.Timeout).toBe(900);
    expect(other.json.Resources[queueId]?.Properties?.VisibilityTimeout).toBe(5401);
  });

  it('alarms on the error rate only once the configured number of calls failed', () => {
    const [errorRate] = Object.entries(other.json.Resources)
      .filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes('ErrorRate'))
      .map(([, r]) => r.Properties as { Metrics: { Expression?: string }[] });
    const expression = errorRate?.Metrics.find((m) => m.Expression)?.Expression;
    expect(expression).toContain('FILL(failed, 0) >= 10');
  });

  it('creates only the cursor signing key and passes the imported key ARN and the issuer', () => {
    other.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const chatId = logicalId(other.stack, other.stack.chat.handler.function.functionName);
    const env = environmentOf(other.json, chatId);
    expect(env).toMatchObject({
      AUTH_MODE: 'oidc',
      JWT_ISSUER: 'https://issuer.example',
      JWT_AUDIENCE: 'claude-api',
      ANTHROPIC_API_KEY_SECRET_ARN: importedKeyArn,
      // SigV4 takes the Authorization header, so the user's JWT travels in another.
      AUTH_TOKEN_HEADER: 'x-user-authorization',
    });
    expect(env).not.toHaveProperty('JWT_SECRET_ARN');
    // CORS is the function URL's business, not the function's.
    expect(env).not.toHaveProperty('CORS_ALLOWED_ORIGINS');
    const statements = statementsOfRole(
      other.json,
      logicalId(other.stack, other.stack.chat.handler.role.roleName),
    );
    expect(
      statements.some(
        (st) =>
          [st.Resource].flat().includes(importedKeyArn) &&
          [st.Action].flat().includes('secretsmanager:GetSecretValue'),
      ),
    ).toBe(true);
  });

  it('requires SigV4 on the URL and answers CORS for the configured origins', () => {
    other.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      InvokeMode: 'RESPONSE_STREAM',
      Cors: {
        AllowOrigins: ['https://app.example', 'https://admin.example'],
        // HEAD too, as every GET route answers it; six methods are all a function URL takes.
        AllowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        AllowHeaders: Match.arrayWith(['authorization', 'x-user-authorization', 'content-type']),
      },
    });
    const url = Object.values(other.json.Resources).find((r) => r.Type === 'AWS::Lambda::Url');
    const cors = url?.Properties?.Cors as { ExposeHeaders?: string[] } | undefined;
    // Browsers hide the response headers CORS does not expose.
    // The Anthropic SDK in a browser (dangerouslyAllowBrowser) obeys x-should-retry over its own rules.
    expect(cors?.ExposeHeaders).toEqual(
      expect.arrayContaining(['x-request-id', 'retry-after', 'x-should-retry']),
    );
  });

  it('lets a browser resume a stream with the Last-Event-ID header, as fetch-based SSE clients do', () => {
    // Not a CORS-safelisted header: without it in the list, the browser fails the preflight
    // of every GET /v1/conversations/{id}/stream that names where to resume.
    other.template.hasResourceProperties('AWS::Lambda::Url', {
      Cors: { AllowHeaders: Match.arrayWith(['last-event-id']) },
    });
  });

  it('reserves chat concurrency and lets the table go with the stack', () => {
    other.template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 40,
    });
    other.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
    for (const type of ['AWS::SQS::Queue', 'AWS::KMS::Key']) {
      const resources = Object.values(other.template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy, type).toBe('Delete');
    }
  });

  it('turns X-Ray tracing and the Powertools Tracer off on both functions', () => {
    for (const fn of [other.stack.chat.handler, other.stack.jobs.worker]) {
      const id = logicalId(other.stack, fn.function.functionName);
      expect(other.json.Resources[id]?.Properties?.TracingConfig).toBeUndefined();
      expect(environmentOf(other.json, id).POWERTOOLS_TRACE_ENABLED).toBe('false');
      const statements = statementsOfRole(other.json, logicalId(other.stack, fn.role.roleName));
      expect(JSON.stringify(statements)).not.toContain('xray:');
    }
  });

  it('runs both functions with Node reading the source maps', () => {
    for (const fn of [other.stack.chat.handler, other.stack.jobs.worker]) {
      const id = logicalId(other.stack, fn.function.functionName);
      expect(environmentOf(other.json, id).NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });
});
