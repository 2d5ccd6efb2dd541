import { beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_API_KEY_PLACEHOLDER } from '../../shared/config/secret-placeholders.js';
import { type StackSettingKey, settingKeys } from '../../shared/config/settings.js';
import { identityOf, LIVE_RESOURCES, LIVE_TYPES } from './live-resources.js';
import { type CfnTemplate, synthesize } from './synth.js';

/**
 * Deploying a new version over a live stack, or a changed setting, must neither replace nor
 * reset anything the deployment holds data or an address in (test/infra/live-resources.ts).
 */
let today: CfnTemplate;

beforeAll(() => {
  today = synthesize().json;
});

/** Why CloudFormation would lose something when `template` is deployed over today's. */
function losses(template: CfnTemplate, spared: readonly string[] = []): string[] {
  return Object.entries(LIVE_RESOURCES)
    .filter(([id]) => !spared.includes(id))
    .flatMap(([id, { loss }]) => {
      const was = identityOf(today, id);
      const is = identityOf(template, id);
      if (JSON.stringify(was) === JSON.stringify(is)) return [];
      return [
        is === undefined
          ? `${id} is gone from the template (a renamed construct or a changed CDK naming): ${loss}`
          : `${id} changes ${JSON.stringify(was)} to ${JSON.stringify(is)}: ${loss}`,
      ];
    });
}

const secretArn = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

describe('the resources a live deployment holds data or an address in', () => {
  it('keep the logical ids they were deployed with (CDK: never change the logical id of a stateful resource)', () => {
    for (const [id, { type, loss }] of Object.entries(LIVE_RESOURCES)) {
      expect(
        today.Resources[id]?.Type,
        `${id} is gone from the template, so CloudFormation would create a new one and drop this one: ${loss}. Keep the construct ids on the path to it (or overrideLogicalId)`,
      ).toBe(type);
    }
  });

  it('are all listed, so a new one is pinned the day it is deployed', () => {
    const unlisted = Object.entries(today.Resources)
      .filter(([id, resource]) => LIVE_TYPES.has(resource.Type) && !(id in LIVE_RESOURCES))
      .map(([id, resource]) => `${id} (${resource.Type})`);
    expect(
      unlisted,
      'a resource that holds data or an address: if it stands in for a listed one (a renamed construct), give it back its old id; if it is new, add it to LIVE_RESOURCES in test/infra/live-resources.ts',
    ).toEqual([]);
  });

  it('keep every property whose change would replace them or reset what they hold', () => {
    const keep = (id: string) =>
      `${id}: a change to this would replace it or reset what it holds: ${LIVE_RESOURCES[id]?.loss}`;
    expect(
      identityOf(today, 'DataTableFDBAD0F2'),
      `${keep('DataTableFDBAD0F2')}. An index's keys cannot change in place, and one update adds or removes one index: add a new one under a new name, remove the old one in a later deploy, and pin each step here`,
    ).toEqual({
      Type: 'AWS::DynamoDB::Table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    // A new SecretString or GenerateSecretString is written over the live value.
    expect(
      identityOf(today, 'SecretsAnthropicApiKeyF6E99229'),
      keep('SecretsAnthropicApiKeyF6E99229'),
    ).toEqual({
      Type: 'AWS::SecretsManager::Secret',
      SecretString: 'replace-me-with-your-anthropic-api-key',
    });
    expect(
      ANTHROPIC_API_KEY_PLACEHOLDER,
      "a new placeholder is written over every deployment's Anthropic key by the next deploy",
    ).toBe('replace-me-with-your-anthropic-api-key');
    for (const id of ['SecretsJwtSecret1DEFB471', 'SecretsSigningKey427004F6']) {
      expect(identityOf(today, id), keep(id)).toEqual({
        Type: 'AWS::SecretsManager::Secret',
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 },
      });
    }
    expect(
      identityOf(today, 'ChatApiChatFunctionFunctionUrl705957A3'),
      keep('ChatApiChatFunctionFunctionUrl705957A3'),
    ).toEqual({
      Type: 'AWS::Lambda::Url',
      TargetFunctionArn: { 'Fn::GetAtt': ['ChatApiChatFunctionF0978BF0', 'Arn'] },
    });
    const mapping = 'JobsWorkerFunctionSqsEventSourceClaudeServerlessJobsQueueF41D2CFB4C458D72';
    expect(identityOf(today, mapping), keep(mapping)).toEqual({
      Type: 'AWS::Lambda::EventSourceMapping',
      EventSourceArn: { 'Fn::GetAtt': ['JobsQueue24944186', 'Arn'] },
    });
    // Named by CloudFormation from the logical id: a fixed name would make any replacement fail.
    for (const id of [
      'JobsQueue24944186',
      'JobsDeadLetterQueue8CC426EE',
      'JobEventsTopic52ABB74C',
      'JobEventsTopicKey9497135A',
      'ObservabilityAlarmTopicF724909D',
      'ObservabilityAlarmTopicKey48516DE9',
      'ChatApiChatFunctionF0978BF0',
      'JobsWorkerFunctionD9840A42',
      'MaintenanceSweeperFunctionE12CF727',
      'ChatApiChatLogGroup81ED739B',
      'JobsWorkerLogGroup00302A6C',
      'MaintenanceSweeperLogGroup7EEAB30A',
    ]) {
      expect(identityOf(today, id), keep(id)).toEqual({
        Type: LIVE_RESOURCES[id]?.type,
      });
    }
  });
});

/**
 * Every stack setting an operator may change on a live stack, with a value other than its
 * default. Updated in place: a function's configuration, the URL's auth type and CORS, the
 * mapping's concurrency, log retention, alarm thresholds, the table's deletion protection and
 * the resources' DeletionPolicy.
 */
const CHANGED_IN_PLACE: Partial<Record<StackSettingKey, string>> = {
  defaultModel: 'claude-opus-4-6',
  allowedModels: 'claude-haiku-4-5',
  fallbackModel: 'claude-haiku-4-5',
  modelPrices:
    '{"claude-sonnet-4-6":{"input":2,"output":10,"cacheWrite5m":2.5,"cacheWrite1h":4,"cacheRead":0.2}}',
  anthropicBaseUrl: 'https://proxy.example',
  maxOutputTokens: '8192',
  maxMessageChars: '16000',
  contextWindowTokens: '150000',
  compactionThresholdTokens: '60000',
  userMonthlyBudgetUsd: '25',
  globalMonthlyBudgetUsd: '5000',
  workspaceInferenceGeo: 'us',
  userRequestsPerMinute: '30',
  userTokensPerMinute: '100000',
  messagesMaxTokens: '64000',
  allowedBetas: '*',
  messagesStreamIdleTimeoutMs: '120000',
  responseCacheTtlSeconds: '3600',
  responseCacheScope: 'deployment',
  adminClaim: 'roles=admin',
  adminIamPrincipals: 'arn:aws:iam::123456789012:role/ops',
  modelMaxRetries: '3',
  modelTimeoutMs: '20000',
  firstByteTimeoutMs: '20000',
  maxRetryWaitMs: '5000',
  streamIdleTimeoutMs: '30000',
  deadlineMarginMs: '6000',
  documentChunkTokens: '10000',
  summaryMaxTokens: '2048',
  summaryConcurrency: '8',
  jobRetryBaseSeconds: '60',
  maxDocumentBytes: '500000',
  batchPollSeconds: '120',
  jwtIssuer: 'https://issuer.example',
  jwtAudience: 'claude-api',
  jwksUrl: 'https://issuer.example/keys',
  maxTokenLifetimeSeconds: '3600',
  tokenClockToleranceSeconds: '60',
  functionUrlAuthType: 'AWS_IAM',
  corsAllowedOrigins: 'https://app.example',
  chatMemoryMb: '1024',
  chatTimeoutSeconds: '600',
  chatReservedConcurrency: '50',
  workerMemoryMb: '2048',
  workerTimeoutSeconds: '100',
  workerMaxConcurrency: '5',
  workerReservedConcurrency: '20',
  tracing: 'false',
  sourceMaps: 'true',
  logRetentionDays: '90',
  logLevel: 'DEBUG',
  removalPolicy: 'destroy',
  tableDeletionProtection: 'false',
  timeToFirstTokenP99AlarmMs: '9000',
  turnLatencyP99AlarmMs: '90000',
  errorRateAlarmPercent: '5',
  errorRateAlarmMinFailures: '7',
  budgetUsedAlarmPercent: '90',
  dailyCostAlarmUsd: '50',
  jobsQueueAgeAlarmSeconds: '3600',
};

/**
 * Settings whose change drops one of the live resources on purpose (docs/configuration.md says
 * what it costs), with the value that does.
 */
const DROPPING: Partial<Record<StackSettingKey, { value: string; drops: string }>> = {
  authMode: { value: 'oidc', drops: 'SecretsJwtSecret1DEFB471' },
  anthropicApiKeySecretArn: {
    value: secretArn('anthropic'),
    drops: 'SecretsAnthropicApiKeyF6E99229',
  },
  jwtSecretArn: { value: secretArn('jwt'), drops: 'SecretsJwtSecret1DEFB471' },
  signingKeySecretArn: { value: secretArn('cursor'), drops: 'SecretsSigningKey427004F6' },
};

/** A new stack altogether, or a new e-mail subscription: docs/configuration.md says so. */
const NOT_AN_UPDATE: readonly StackSettingKey[] = ['stackName', 'alarmEmail'];

describe('a setting changed on a live stack', () => {
  it('is known to update in place, or to drop only what it says', () => {
    const considered = [
      ...Object.keys(CHANGED_IN_PLACE),
      ...Object.keys(DROPPING),
      ...NOT_AN_UPDATE,
    ];
    const unconsidered = settingKeys('stack').filter((key) => !considered.includes(key));
    expect(
      unconsidered,
      'synthesize with each new stack setting changed and add it to CHANGED_IN_PLACE, DROPPING or NOT_AN_UPDATE',
    ).toEqual([]);
  });

  it('replaces and resets nothing a live deployment holds, all changed at once', () => {
    const changed = synthesize({
      context: { ...CHANGED_IN_PLACE, authMode: 'oidc' },
    }).json;
    expect(changed.Resources.ChatApiChatFunctionFunctionUrl705957A3?.Properties).toMatchObject({
      AuthType: 'AWS_IAM',
      Cors: { AllowOrigins: ['https://app.example'] },
    });
    // authMode oidc (which jwtIssuer and jwtAudience need) drops the JWT secret; checked below.
    expect(losses(changed, ['SecretsJwtSecret1DEFB471'])).toEqual([]);
  });

  it('that brings in a secret of its own, or OIDC, drops only the secret the stack made', () => {
    const oidc = { authMode: 'oidc', jwtIssuer: 'https://issuer.example', jwtAudience: 'a' };
    for (const [key, { value, drops }] of Object.entries(DROPPING)) {
      const changed = synthesize({
        context: key === 'authMode' ? oidc : { [key]: value },
      }).json;
      expect(changed.Resources[drops], `${key} drops ${drops}`).toBeUndefined();
      expect(losses(changed, [drops]), key).toEqual([]);
    }
  });
});
