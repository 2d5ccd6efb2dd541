import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config/load-settings.js';
import { ANTHROPIC_API_KEY_PLACEHOLDER } from '../../shared/config/secret-placeholders.js';
import {
  envNameOf,
  type FunctionSettingKey,
  SETTINGS,
  type StackSettingKey,
  settingKeys,
} from '../../shared/config/settings.js';
import { JOBS_QUEUE_DEFINITION, visibilityTimeoutFor } from '../../shared/jobs/queue-definition.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import { TABLE_DEFINITION } from '../../shared/table/definition.js';
import {
  actionsOn,
  type CfnResource,
  environmentOf as environmentOfFunction,
  logicalId,
  propertiesOf,
  type Synthesized,
  statementsOfRole,
  synthesize,
} from './synth.js';

let s: Synthesized;
let ids: Record<
  'table' | 'queue' | 'dlq' | 'anthropicKey' | 'jwtSecret' | 'signingKey' | 'chat' | 'worker',
  string
>;

const resourcesOfType = (type: string): [string, CfnResource][] =>
  Object.entries(s.json.Resources).filter(([, resource]) => resource.Type === type);

const environmentOf = (functionId: string) => environmentOfFunction(s.json, functionId);

/** Settings both the stack and the functions read: the stack passes them on. */
const SHARED_KEYS = settingKeys('functions').filter(
  (key) => SETTINGS[key].readers === 'both',
) as (FunctionSettingKey & StackSettingKey)[];

/** Variables the function construct sets for Powertools and Node, not settings of ours. */
const RUNTIME_VARIABLES = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_TRACE_ENABLED',
  'LOG_LEVEL',
  'NODE_OPTIONS',
];

beforeAll(() => {
  s = synthesize();
  const { stack } = s;
  ids = {
    table: logicalId(stack, stack.data.table.tableName),
    queue: logicalId(stack, stack.jobs.queue.queueUrl),
    dlq: logicalId(stack, stack.jobs.deadLetterQueue.queueUrl),
    anthropicKey: logicalId(stack, stack.secrets.anthropicApiKey.secretArn),
    jwtSecret: logicalId(stack, stack.secrets.jwtSecret!.secretArn),
    signingKey: logicalId(stack, stack.secrets.signingKey.secretArn),
    chat: logicalId(stack, stack.chat.handler.function.functionName),
    worker: logicalId(stack, stack.jobs.worker.function.functionName),
  };
});

describe('the table', () => {
  it('has the keys, GSI and TTL of TABLE_DEFINITION', () => {
    const { partitionKey, sortKey, globalSecondaryIndexes } = TABLE_DEFINITION;
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: {
        AttributeName: TABLE_DEFINITION.timeToLiveAttribute,
        Enabled: true,
      },
      GlobalSecondaryIndexes: globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    });
    const attributes = propertiesOf<{
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
    }>(s.json, ids.table).AttributeDefinitions;
    const expected = [
      partitionKey,
      sortKey,
      ...globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ];
    expect(attributes).toEqual(
      expect.arrayContaining(
        expected.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
      ),
    );
    expect(attributes).toHaveLength(expected.length);
  });

  it('keeps the queues and the topic keys when the stack goes, as it keeps the table', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::KMS::Key']) {
      const resources = Object.values(s.template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy, type).toBe('Retain');
    }
  });

  it('is on-demand, encrypted, with point-in-time recovery and deletion protection, and retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('the jobs queues', () => {
  it('encrypt at rest and refuse requests without TLS', () => {
    const queues = resourcesOfType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [, queue] of queues) expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
    for (const queueId of [ids.queue, ids.dlq]) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('redrive to the dead-letter queue after maxReceiveCount deliveries', () => {
    expect(s.json.Resources[ids.queue]?.Properties).toMatchObject({
      VisibilityTimeout: visibilityTimeoutFor(s.config.workerTimeoutSeconds),
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
        maxReceiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
      },
    });
    expect(s.json.Resources[ids.dlq]?.Properties?.MessageRetentionPeriod).toBe(
      JOBS_QUEUE_DEFINITION.deadLetterRetentionDays * 24 * 3600,
    );
  });

  it('keep a job a day longer than the queue-age alarm can wait for it', () => {
    const retentionSeconds = JOBS_QUEUE_DEFINITION.retentionDays * 24 * 3600;
    expect(s.json.Resources[ids.queue]?.Properties?.MessageRetentionPeriod).toBe(retentionSeconds);
    const ageAlarm = Object.values(s.json.Resources).find(
      (resource) =>
        resource.Type === 'AWS::CloudWatch::Alarm' &&
        resource.Properties?.MetricName === 'ApproximateAgeOfOldestMessage',
    );
    expect(ageAlarm?.Properties?.Threshold).toBe(2700);
    expect(SETTINGS.jobsQueueAgeAlarmSeconds.schema.safeParse(retentionSeconds).success).toBe(
      false,
    );
  });

  it('feed the worker in batches that report item failures', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.worker },
      BatchSize: JOBS_QUEUE_DEFINITION.batchSize,
      MaximumBatchingWindowInSeconds: JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: s.config.workerMaxConcurrency },
    });
  });
});

describe('the functions', () => {
  it('run Node.js 24 on arm64 with the configured memory and timeouts', () => {
    expect(s.json.Resources[ids.chat]?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: s.config.chatMemoryMb,
      Timeout: s.config.chatTimeoutSeconds,
    });
    expect(s.json.Resources[ids.worker]?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: s.config.workerMemoryMb,
      Timeout: JOBS_QUEUE_DEFINITION.workerTimeoutSeconds,
    });
  });

  it("let the worker put a job's message back on its own queue past Lambda's 16 rounds, and only it", () => {
    // A batch job waits for its batch that way every minute: terminated, it is dead-lettered.
    expect(s.json.Resources[ids.worker]?.Properties?.RecursiveLoop).toBe('Allow');
    expect(s.json.Resources[ids.chat]?.Properties?.RecursiveLoop).toBeUndefined();
  });

  it('fit six worker timeouts and the batching window in the jobs queue visibility timeout', () => {
    const workerTimeout = s.json.Resources[ids.worker]?.Properties?.Timeout as number;
    expect(6 * workerTimeout + JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds).toBeLessThanOrEqual(
      s.json.Resources[ids.queue]?.Properties?.VisibilityTimeout as number,
    );
  });

  it('log to their own log groups with the configured retention', () => {
    const logGroups = resourcesOfType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(3);
    for (const [id, logGroup] of logGroups) {
      expect(logGroup.Properties?.RetentionInDays).toBe(s.config.logRetentionDays);
      const users = resourcesOfType('AWS::Lambda::Function').filter(
        ([, fn]) =>
          (fn.Properties?.LoggingConfig as { LogGroup?: { Ref: string } })?.LogGroup?.Ref === id,
      );
      expect(users).toHaveLength(1);
    }
  });

  it('each have a role of their own without managed policies', () => {
    const roles = resourcesOfType('AWS::IAM::Role');
    expect(roles).toHaveLength(3);
    for (const [, role] of roles) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('carry the Powertools service names and namespace, and no source maps by default', () => {
    for (const [id, service] of [
      [ids.chat, SERVICE.chat],
      [ids.worker, SERVICE.worker],
    ] as const) {
      expect(environmentOf(id)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: service,
        // The default stack's, as deployments have always had (other stack names: metrics-namespace.test.ts).
        POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless',
        LOG_LEVEL: s.config.logLevel,
      });
      // Source maps are bundled all the same; `sourceMaps` makes Node read them.
      expect(environmentOf(id)).not.toHaveProperty('NODE_OPTIONS');
    }
  });

  it('get secret ARNs, never secret values, in their environment', () => {
    const chat = environmentOf(ids.chat);
    const worker = environmentOf(ids.worker);
    expect(chat.ANTHROPIC_API_KEY_SECRET_ARN).toEqual({ Ref: ids.anthropicKey });
    expect(chat.JWT_SECRET_ARN).toEqual({ Ref: ids.jwtSecret });
    expect(worker.ANTHROPIC_API_KEY_SECRET_ARN).toEqual({ Ref: ids.anthropicKey });
    for (const env of [chat, worker]) {
      expect(env).not.toHaveProperty('ANTHROPIC_API_KEY');
      expect(env).not.toHaveProperty('JWT_SECRET');
      expect(JSON.stringify(env)).not.toContain('resolve:secretsmanager');
    }
    for (const [id, secret] of resourcesOfType('AWS::SecretsManager::Secret')) {
      if (id === ids.anthropicKey) {
        // Not a secret: what the functions refuse until the operator puts the key.
        expect(secret.Properties?.SecretString).toBe(ANTHROPIC_API_KEY_PLACEHOLDER);
      } else {
        expect(secret.Properties).not.toHaveProperty('SecretString');
        expect(secret.Properties).toHaveProperty('GenerateSecretString');
      }
    }
  });

  it('get an environment the functions accept at cold start (shared/config/settings.ts)', () => {
    // Resource names and ARNs are CloudFormation references at synth time.
    const deployed: Record<string, string> = {
      [ids.table]: 'claude-serverless-table',
      [ids.queue]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
      [ids.dlq]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq',
      [ids.anthropicKey]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf',
      [ids.jwtSecret]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf',
      [ids.signingKey]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sign-AbCdEf',
      [logicalId(s.stack, s.stack.jobEvents.topic.topicArn)]:
        'arn:aws:sns:eu-west-1:123456789012:ClaudeServerless-JobEventsTopic-AbCdEf',
    };
    for (const [id, role] of [
      [ids.chat, 'chat'],
      [ids.worker, 'worker'],
    ] as const) {
      const env = Object.fromEntries(
        Object.entries(environmentOf(id)).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : deployed[(value as { Ref: string }).Ref],
        ]),
      );
      expect(Object.values(env)).not.toContain(undefined);
      const settings = loadSettings(env, { role });
      // Every setting the stack and the functions share arrives with the stack's value
      // (a secret the stack creates arrives as its ARN; see the test above).
      for (const key of SHARED_KEYS) {
        if (s.config[key] !== undefined) expect(settings[key], key).toEqual(s.config[key]);
      }
    }
    expect(environmentOf(ids.worker).DEAD_LETTER_QUEUE_URL).toEqual({ Ref: ids.dlq });
    expect(environmentOf(ids.worker)).not.toHaveProperty('JWT_SECRET_ARN');
  });
});

describe("the functions' environment", () => {
  it('holds only settings the functions read, never one only the stack reads', () => {
    const functionVariables = settingKeys('functions').map(envNameOf);
    for (const id of [ids.chat, ids.worker]) {
      const unexpected = Object.keys(environmentOf(id)).filter(
        (name) => !functionVariables.includes(name) && !RUNTIME_VARIABLES.includes(name),
      );
      expect(unexpected).toEqual([]);
    }
    const stackOnly = settingKeys('stack')
      .filter((key) => SETTINGS[key].readers === 'stack')
      .map(envNameOf)
      // logLevel reaches the functions as Powertools' own LOG_LEVEL.
      .filter((name) => !RUNTIME_VARIABLES.includes(name));
    expect(stackOnly.length).toBeGreaterThan(10);
    for (const id of [ids.chat, ids.worker]) {
      expect(Object.keys(environmentOf(id)).filter((name) => stackOnly.includes(name))).toEqual([]);
    }
  });

  it('leaves out settings the stack has no value for, or leaves at their default, so the functions apply their defaults', () => {
    // fallbackModel, anthropicBaseUrl, allowedModels ([]) and modelPrices ({}) are unset by
    // default; the others keep their defaults in this stack.
    for (const key of [
      'fallbackModel',
      'anthropicBaseUrl',
      'allowedModels',
      'modelPrices',
      'maxOutputTokens',
      'authMode',
      'userMonthlyBudgetUsd',
    ] as const) {
      expect(s.config[key as keyof typeof s.config] ?? undefined).toEqual(
        SETTINGS[key].defaultValue,
      );
      expect(environmentOf(ids.chat)).not.toHaveProperty(envNameOf(key));
    }
  });

  it("fails synth, naming the longest settings, when a function's environment cannot fit Lambda's 4 KB", () => {
    // 34 characters a name: 80 of them take about 2.8 KB of the environment, 110 about 3.9 KB.
    const betas = (count: number) =>
      Array.from(
        { length: count },
        (_, i) => `team-beta-${String(i).padStart(3, '0')}-2026-01-01-abcdefghi`,
      );

    expect(() => synthesize({ context: { allowedBetas: betas(80) } })).not.toThrow();
    expect(() => synthesize({ context: { allowedBetas: betas(110) } })).toThrow(
      /over Lambda's 4096: shorten the longest settings \(allowedBetas \(\d+ bytes\)/,
    );
  });

  it('tells only the chat function which header carries the JWT', () => {
    expect(environmentOf(ids.chat).AUTH_TOKEN_HEADER).toBe('authorization');
    expect(environmentOf(ids.worker)).not.toHaveProperty('AUTH_TOKEN_HEADER');
  });
});

describe('tracing', () => {
  it('is X-Ray active tracing on both functions, with the Powertools Tracer on', () => {
    expect(s.config.tracing).toBe(true);
    for (const id of [ids.chat, ids.worker]) {
      expect(s.json.Resources[id]?.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      expect(environmentOf(id).POWERTOOLS_TRACE_ENABLED).toBe('true');
    }
  });

  it('lets each function send trace segments to X-Ray', () => {
    for (const role of [s.stack.chat.handler.role, s.stack.jobs.worker.role]) {
      const actions = statementsOfRole(s.json, logicalId(s.stack, role.roleName))
        .filter((statement) => statement.Resource === '*')
        .flatMap((statement) => [statement.Action].flat());
      expect(actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});

describe('table permissions', () => {
  it('grant each function the item operations it sends, and no Scan, stream read or DescribeTable', () => {
    for (const role of [
      s.stack.chat.handler.role,
      s.stack.jobs.worker.role,
      s.stack.maintenance.handler.role,
    ]) {
      const actions = statementsOfRole(s.json, logicalId(s.stack, role.roleName))
        .flatMap((statement) => [statement.Action].flat())
        .filter((action) => String(action).startsWith('dynamodb:'));
      expect(actions).toContain('dynamodb:UpdateItem');
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions).not.toContain('dynamodb:GetRecords');
      expect(actions).not.toContain('dynamodb:DescribeTable');
    }
  });
});

describe('the chat function URL', () => {
  it('streams its response and is public, with the JWT checked by the function', () => {
    s.template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [ids.chat, 'Arn'] },
      InvokeMode: 'RESPONSE_STREAM',
      AuthType: 'NONE',
    });
    const variables = environmentOf(ids.chat);
    // hs256 is the default, which the function applies itself (stack-variants: oidc is written).
    expect(variables.AUTH_MODE ?? SETTINGS.authMode.defaultValue).toBe('hs256');
    expect(variables.JWT_SECRET_ARN).toEqual({ Ref: ids.jwtSecret });
  });

  // Since October 2025 a new public function URL answers 403 to every request unless anyone may
  // also invoke the function itself, through the URL only.
  it('lets anyone invoke the function through its URL, and only through it', () => {
    const publicInvokes = resourcesOfType('AWS::Lambda::Permission')
      .map(([, permission]) => permission.Properties ?? {})
      .filter((properties) => properties.Principal === '*');
    expect(publicInvokes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'lambda:InvokeFunctionUrl',
          FunctionName: { 'Fn::GetAtt': [ids.chat, 'Arn'] },
          FunctionUrlAuthType: 'NONE',
        }),
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [ids.chat, 'Arn'] },
          InvokedViaFunctionUrl: true,
        }),
      ]),
    );
    expect(publicInvokes).toHaveLength(2);
  });

  it('answers CORS only for configured origins', () => {
    const url = resourcesOfType('AWS::Lambda::Url')[0]?.[1];
    expect(s.config.corsAllowedOrigins).toEqual([]);
    expect(url?.Properties).not.toHaveProperty('Cors');
  });
});

/** X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions. */
const X_RAY_WRITE_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

describe('least privilege', () => {
  const statements = (fn: 'chat' | 'worker') =>
    statementsOfRole(
      s.json,
      logicalId(
        s.stack,
        (fn === 'chat' ? s.stack.chat.handler : s.stack.jobs.worker).role.roleName,
      ),
    );

  it('lets the chat function queue jobs, but not consume them or touch the dead letters', () => {
    const onQueue = actionsOn(statements('chat'), ids.queue);
    expect(onQueue).toContain('sqs:SendMessage');
    expect(onQueue).not.toContain('sqs:ReceiveMessage');
    expect(onQueue).not.toContain('sqs:DeleteMessage');
    expect(actionsOn(statements('chat'), ids.dlq)).toEqual([]);
  });

  it("lets the worker consume and delay jobs, and put a batch job's message back", () => {
    const onQueue = actionsOn(statements('worker'), ids.queue);
    expect(onQueue).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
      ]),
    );
  });

  it('lets the worker move a message that can never succeed to the dead-letter queue', () => {
    expect(actionsOn(statements('worker'), ids.dlq)).toContain('sqs:SendMessage');
  });

  it('lets both read the Anthropic key; only the chat function reads the JWT secret', () => {
    expect(actionsOn(statements('chat'), ids.anthropicKey)).toContain(
      'secretsmanager:GetSecretValue',
    );
    expect(actionsOn(statements('chat'), ids.jwtSecret)).toContain('secretsmanager:GetSecretValue');
    expect(actionsOn(statements('worker'), ids.anthropicKey)).toContain(
      'secretsmanager:GetSecretValue',
    );
    expect(actionsOn(statements('worker'), ids.jwtSecret)).toEqual([]);
  });

  it('lets both read and write the table, and grants * only to X-Ray, which has no resources', () => {
    for (const fn of ['chat', 'worker'] as const) {
      expect(actionsOn(statements(fn), ids.table)).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']),
      );
      for (const statement of statements(fn)) {
        const actions = [statement.Action].flat();
        if ([statement.Resource].flat().includes('*')) {
          expect(actions.every((action) => X_RAY_WRITE_ACTIONS.includes(action))).toBe(true);
        }
        expect(actions.some((action) => action.endsWith(':*'))).toBe(false);
      }
    }
  });
});

describe('the outputs', () => {
  it('name what the local stack names in .local/outputs.json, and the secret, the dashboard, the alarm topic and what operators look at', () => {
    expect(Object.keys(s.json.Outputs ?? {}).sort()).toEqual(
      [
        'AlarmTopicArn',
        'AnthropicApiKeySecretArn',
        'DashboardUrl',
        'DeadLetterQueueUrl',
        'EventsTopicArn',
        'FunctionUrl',
        'JobsQueueUrl',
        'JwtSecretArn',
        'LogGroupNames',
        'TableName',
        'WorkerFunctionName',
      ].sort(),
    );
    expect(s.json.Outputs?.WorkerFunctionName?.Value).toEqual({ Ref: ids.worker });
    expect(JSON.stringify(s.json.Outputs?.LogGroupNames?.Value)).toMatch(
      /ChatApiChatLogGroup.*JobsWorkerLogGroup.*MaintenanceSweeperLogGroup/,
    );
    expect(s.json.Outputs?.FunctionUrl?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/FunctionUrl/), 'FunctionUrl'],
    });
    expect(s.json.Outputs?.JobsQueueUrl?.Value).toEqual({ Ref: ids.queue });
    expect(s.json.Outputs?.DeadLetterQueueUrl?.Value).toEqual({ Ref: ids.dlq });
    expect(s.json.Outputs?.TableName?.Value).toEqual({ Ref: ids.table });
    expect(s.json.Outputs?.EventsTopicArn?.Value).toEqual({
      Ref: logicalId(s.stack, s.stack.jobEvents.topic.topicArn),
    });
    expect(s.json.Outputs?.AlarmTopicArn?.Value).toEqual({
      Ref: logicalId(s.stack, s.stack.observability.alarmTopic.topicArn),
    });
  });

  it('say how npm run token gets the JWT secret: from JWT_SECRET, which the user exports from it (it reads no secret itself)', () => {
    const description = s.json.Outputs?.JwtSecretArn?.Description;
    expect(description).toContain('export it as JWT_SECRET');
    expect(description).not.toMatch(/npm run token reads/);
  });
});

describe('the events topic', () => {
  it('is encrypted under a rotating key of its own and refuses publishing without TLS', () => {
    const topic = logicalId(s.stack, s.stack.jobEvents.topic.topicArn);
    const key = logicalId(s.stack, s.stack.jobEvents.key.keyArn);
    expect(propertiesOf(s.json, topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(propertiesOf(s.json, key).EnableKeyRotation).toBe(true);
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('is where the worker, the chat function and the sweep publish, and what they are told', () => {
    const topic = logicalId(s.stack, s.stack.jobEvents.topic.topicArn);
    const key = logicalId(s.stack, s.stack.jobEvents.key.keyArn);
    for (const fn of [s.stack.jobs.worker, s.stack.chat.handler, s.stack.maintenance.handler]) {
      const statements = statementsOfRole(s.json, logicalId(s.stack, fn.role.roleName));
      expect(actionsOn(statements, topic)).toEqual(['sns:Publish']);
      expect(actionsOn(statements, key)).toEqual(
        expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
      );
      const functionId = logicalId(s.stack, fn.function.functionName);
      expect(environmentOf(functionId)).toMatchObject({ EVENTS_TOPIC_ARN: { Ref: topic } });
    }
  });
});

describe('the maintenance sweep', () => {
  it('runs every minute on the table, and only there', () => {
    const sweeper = logicalId(s.stack, s.stack.maintenance.handler.function.functionName);
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        { Arn: { 'Fn::GetAtt': [sweeper, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } },
      ],
    });
    // Lambda's own retries of the schedule's asynchronous call are off too.
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: sweeper },
      MaximumRetryAttempts: 0,
    });
    expect(environmentOf(sweeper)).toMatchObject({ TABLE_NAME: { Ref: ids.table } });
    expect(environmentOf(sweeper)).not.toHaveProperty('JOBS_QUEUE_URL');
    const statements = statementsOfRole(
      s.json,
      logicalId(s.stack, s.stack.maintenance.handler.role.roleName),
    );
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.some((action) => String(action).startsWith('dynamodb:'))).toBe(true);
    expect(actions.filter((action) => /^(sqs|secretsmanager):/.test(String(action)))).toEqual([]);
    // It publishes budget events, and nothing else beyond the table.
    expect(actions.filter((action) => String(action).startsWith('sns:'))).toEqual(['sns:Publish']);
  });

  it('may be invoked by EventBridge for its own schedule rule only', () => {
    const sweeper = logicalId(s.stack, s.stack.maintenance.handler.function.functionName);
    const rule = logicalId(s.stack, s.stack.maintenance.schedule.ruleArn);
    const permissions = Object.values(s.json.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Permission')
      .map((resource) => resource.Properties ?? {})
      .filter((properties) => JSON.stringify(properties.FunctionName).includes(`"${sweeper}"`));
    expect(permissions).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [sweeper, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      },
    ]);
  });
});
