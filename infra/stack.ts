import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { metricsNamespaceOf } from '../shared/observability/metric-names.js';
import type { InfraConfig } from './config.js';
import { ChatApi } from './constructs/chat-api.js';
import { DataTable } from './constructs/data-table.js';
import { bindEvents, JobEvents } from './constructs/job-events.js';
import { Jobs } from './constructs/jobs.js';
import { Maintenance } from './constructs/maintenance.js';
import { Observability } from './constructs/observability.js';
import { Secrets } from './constructs/secrets.js';
import { functionEnvironment } from './function-settings.js';

export interface ClaudeServerlessStackProps extends StackProps {
  readonly config: InfraConfig;
}

/** The whole product in one stack: it only composes the constructs. */
export class ClaudeServerlessStack extends Stack {
  public readonly data: DataTable;
  public readonly secrets: Secrets;
  public readonly jobs: Jobs;
  public readonly jobEvents: JobEvents;
  public readonly chat: ChatApi;
  public readonly maintenance: Maintenance;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ClaudeServerlessStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // Each stack publishes and alarms on its own metrics, even beside another in one account and region.
    const metricsNamespace = metricsNamespaceOf(config.stackName);
    const functionDefaults = {
      metricsNamespace,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logRemovalPolicy: removalPolicy,
      logLevel: config.logLevel,
      tracing: config.tracing,
      sourceMaps: config.sourceMaps,
      environment: functionEnvironment(config),
    };

    this.data = new DataTable(this, 'Data', {
      removalPolicy,
      deletionProtection: config.tableDeletionProtection,
    });
    this.secrets = new Secrets(this, 'Secrets', {
      anthropicApiKeySecretArn: config.anthropicApiKeySecretArn,
      needsJwtSecret: config.authMode === 'hs256',
      jwtSecretArn: config.jwtSecretArn,
      signingKeySecretArn: config.signingKeySecretArn,
      removalPolicy,
    });
    this.jobs = new Jobs(this, 'Jobs', {
      table: this.data.table,
      anthropicApiKey: this.secrets.anthropicApiKey,
      maxConcurrency: config.workerMaxConcurrency,
      removalPolicy,
      function: {
        ...functionDefaults,
        memorySizeMb: config.workerMemoryMb,
        timeout: Duration.seconds(config.workerTimeoutSeconds),
        reservedConcurrency: config.workerReservedConcurrency,
      },
    });
    this.chat = new ChatApi(this, 'ChatApi', {
      table: this.data.table,
      jobsQueue: this.jobs.queue,
      anthropicApiKey: this.secrets.anthropicApiKey,
      jwtSecret: this.secrets.jwtSecret,
      signingKey: this.secrets.signingKey,
      authType: lambda.FunctionUrlAuthType[config.functionUrlAuthType],
      corsAllowedOrigins: config.corsAllowedOrigins,
      function: {
        ...functionDefaults,
        memorySizeMb: config.chatMemoryMb,
        timeout: Duration.seconds(config.chatTimeoutSeconds),
        reservedConcurrency: config.chatReservedConcurrency,
      },
    });
    this.maintenance = new Maintenance(this, 'Maintenance', {
      table: this.data.table,
      function: functionDefaults,
    });
    this.jobEvents = new JobEvents(this, 'JobEvents', removalPolicy);
    // Jobs end in the worker; a cancel in the chat function; budgets are watched by both and the sweep.
    for (const fn of [this.jobs.worker, this.chat.handler, this.maintenance.handler]) {
      bindEvents(fn, this.jobEvents.topic);
    }
    this.observability = new Observability(this, 'Observability', {
      metricsNamespace,
      chatFunction: this.chat.handler.function,
      table: this.data.table,
      workerFunction: this.jobs.worker.function,
      maintenanceFunction: this.maintenance.handler.function,
      jobsQueue: this.jobs.queue,
      deadLetterQueue: this.jobs.deadLetterQueue,
      alarmEmail: config.alarmEmail,
      removalPolicy,
      thresholds: {
        timeToFirstTokenP99Ms: config.timeToFirstTokenP99AlarmMs,
        turnLatencyP99Ms: config.turnLatencyP99AlarmMs,
        errorRatePercent: config.errorRateAlarmPercent,
        errorRateMinFailures: config.errorRateAlarmMinFailures,
        budgetUsedPercent: config.budgetUsedAlarmPercent,
        dailyCostUsd: config.dailyCostAlarmUsd,
        jobsQueueAgeSeconds: config.jobsQueueAgeAlarmSeconds,
      },
    });

    // Output ids match the local stack's .local/outputs.json keys.
    new CfnOutput(this, 'FunctionUrl', { value: this.chat.functionUrl.url });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'JobsQueueUrl', { value: this.jobs.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.jobs.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventsTopicArn', {
      value: this.jobEvents.topic.topicArn,
      description:
        'Subscribe to job and budget events (filter on the type, status and userId attributes)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.observability.alarmTopic.topicArn,
      description:
        'Every alarm publishes here, on ALARM and on OK: subscribe your pager or chat (alarmEmail subscribes an address)',
    });
    new CfnOutput(this, 'AnthropicApiKeySecretArn', {
      value: this.secrets.anthropicApiKey.secretArn,
      description:
        'Put your Anthropic API key in this secret (aws secretsmanager put-secret-value)',
    });
    const region = Aws.REGION;
    if (this.secrets.jwtSecret) {
      new CfnOutput(this, 'JwtSecretArn', {
        value: this.secrets.jwtSecret.secretArn,
        description:
          'The HS256 signing secret your token issuer shares; npm run token signs with it once you export it as JWT_SECRET (aws secretsmanager get-secret-value)',
      });
    }
    new CfnOutput(this, 'LogGroupNames', {
      value: [this.chat.handler, this.jobs.worker, this.maintenance.handler]
        .map((fn) => fn.logGroup.logGroupName)
        .join(','),
      description: 'The chat, worker and maintenance log groups, for CloudWatch Logs Insights',
    });
    new CfnOutput(this, 'WorkerFunctionName', {
      value: this.jobs.worker.function.functionName,
      description: 'The jobs worker, whose SQS event source mapping takes the jobs queue',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.observability.dashboard.dashboardName}`,
    });
  }
}
