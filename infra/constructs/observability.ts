import { Duration } from 'aws-cdk-lib';
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

export interface ObservabilityProps {
  readonly chatFunction: lambda.IFunction;
  readonly table: dynamodb.ITable;
  readonly workerFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly thresholds: AlarmThresholds;
  /** Subscribed to the alarm topic. @default none: subscribe to the topic yourself */
  readonly alarmEmail?: string;
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
    });
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    for (const definition of alarmDefinitions(props)) this.addAlarm(definition);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    addDashboardWidgets(this.dashboard, { ...props, alarms: this.alarms });
  }

  private addAlarm(definition: AlarmDefinition): void {
    const alarm = new cloudwatch.Alarm(this, definition.id, {
      metric: definition.metric,
      threshold: definition.threshold,
      alarmDescription: definition.description,
      evaluationPeriods: definition.evaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No traffic is not a problem: a quiet hour must not page anyone.
      treatMissingData: definition.keepStateWithoutData
        ? cloudwatch.TreatMissingData.IGNORE
        : cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}
