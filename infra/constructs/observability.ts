import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, SERVICE } from '../../shared/observability/metric-names.js';
import { addDashboardWidgets } from './dashboard-widgets.js';
import { chatMetric, DEFAULT_PERIOD, errorRatePercent, serviceMetric } from './service-metrics.js';

export interface AlarmThresholds {
  /** P99 time to first token, per 5 minutes, in milliseconds. */
  readonly timeToFirstTokenP99Ms: number;
  /** P99 turn latency, per 5 minutes, in milliseconds. */
  readonly turnLatencyP99Ms: number;
  /** Failed turns as a percentage of requests over 5 minutes. */
  readonly errorRatePercent: number;
  /** Month-to-date spend as a percentage of the global monthly budget. */
  readonly budgetUsedPercent: number;
  /** Model spend in one day, in USD. */
  readonly dailyCostUsd: number;
  /** Age of the oldest message on the jobs queue, in seconds. */
  readonly jobsQueueAgeSeconds: number;
}

export interface ObservabilityProps {
  readonly chatFunction: lambda.IFunction;
  readonly workerFunction: lambda.IFunction;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly thresholds: AlarmThresholds;
  /** Subscribed to the alarm topic. @default none: subscribe to the topic yourself */
  readonly alarmEmail?: string;
}

/**
 * Alarms on latency, errors, budget burn and the jobs queues, sent to an encrypted
 * SNS topic; a dashboard of the same metrics. Metric names come from
 * shared/observability/metric-names.ts, the contract with the functions.
 */
export class Observability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { thresholds: t } = props;

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

    const above = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ) => this.alarm(id, { metric, threshold, evaluationPeriods, alarmDescription: description });

    above(
      'TimeToFirstTokenP99',
      chatMetric(METRIC.timeToFirstToken, 'p99'),
      t.timeToFirstTokenP99Ms,
      `P99 time to first token above ${t.timeToFirstTokenP99Ms} ms for 15 minutes`,
      3,
    );
    above(
      'TurnLatencyP99',
      chatMetric(METRIC.turnLatency, 'p99'),
      t.turnLatencyP99Ms,
      `P99 turn latency above ${t.turnLatencyP99Ms} ms for 15 minutes`,
      3,
    );
    above(
      'ErrorRate',
      errorRatePercent(),
      t.errorRatePercent,
      `More than ${t.errorRatePercent}% of chat turns failed in 5 minutes`,
    );
    above(
      'ChatErrors',
      props.chatFunction.metricErrors({ period: DEFAULT_PERIOD }),
      0,
      'The chat function failed (Lambda Errors)',
    );
    above(
      'ChatThrottles',
      props.chatFunction.metricThrottles({ period: DEFAULT_PERIOD }),
      0,
      'The chat function was throttled: requests were refused',
    );
    above(
      'GlobalBudgetUsed',
      chatMetric(METRIC.globalBudgetUsedPercent, 'Maximum'),
      t.budgetUsedPercent,
      `Month-to-date spend above ${t.budgetUsedPercent}% of the global monthly budget`,
    );
    above(
      'DailyCost',
      serviceMetric(SERVICE.chat, METRIC.costUsd, 'Sum', { period: Duration.days(1) }),
      t.dailyCostUsd,
      `Model spend above ${t.dailyCostUsd.toFixed(2)} USD in a day: faster than the monthly budget allows`,
    );
    above(
      'DeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      0,
      'Jobs reached the dead-letter queue',
    );
    above(
      'JobsQueueAge',
      props.jobsQueue.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: DEFAULT_PERIOD,
      }),
      t.jobsQueueAgeSeconds,
      `A job has waited more than ${t.jobsQueueAgeSeconds} s on the queue`,
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    addDashboardWidgets(this.dashboard, { ...props, alarms: this.alarms });
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No traffic is not a problem: a quiet hour must not page anyone.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}
