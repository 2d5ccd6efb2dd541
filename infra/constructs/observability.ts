import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type AlarmDefinition,
  type AlarmThresholds,
  alarmDefinitions,
} from './alarm-definitions.js';
import { addDashboardWidgets } from './dashboard-widgets.js';
import { ServiceMetrics } from './service-metrics.js';

export interface ObservabilityProps {
  /** The namespace the stack's functions publish their metrics under (metricsNamespaceOf). */
  readonly metricsNamespace: string;
  readonly chatFunction: lambda.IFunction;
  readonly table: dynamodb.ITable;
  readonly workerFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly thresholds: AlarmThresholds;
  /** Subscribed to the alarm topic. @default none: subscribe to the topic yourself */
  readonly alarmEmail?: string;
  /** For the topic's key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Alarms on latency, errors, budget burn, table throttling and the jobs queues, sent to an
 * encrypted SNS topic; a dashboard of the same metrics. Metric names come from
 * shared/observability/metric-names.ts, the contract with the functions.
 */
export class Observability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic under the AWS managed SNS key: it needs a
    // key whose policy lets it encrypt.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    // enforceSSL gives the topic a policy of its own, which replaces the default one that let
    // the account's services publish: without this, every alarm action fails.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const metrics = new ServiceMetrics(props.metricsNamespace);
    for (const definition of alarmDefinitions({ ...props, metrics })) this.addAlarm(definition);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    addDashboardWidgets(this.dashboard, { ...props, metrics, alarms: this.alarms });
  }

  private addAlarm(definition: AlarmDefinition): void {
    const alarm = new cloudwatch.Alarm(this, definition.id, {
      metric: definition.metric,
      threshold: definition.threshold,
      alarmDescription: definition.description,
      evaluationPeriods: definition.evaluationPeriods ?? 1,
      comparisonOperator: definition.whenBelow
        ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No traffic is not a problem: a quiet hour must not page anyone. But for what must keep
      // happening, whose silence is the problem.
      treatMissingData: definition.whenBelow
        ? cloudwatch.TreatMissingData.BREACHING
        : definition.keepStateWithoutData
          ? cloudwatch.TreatMissingData.IGNORE
          : cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}
