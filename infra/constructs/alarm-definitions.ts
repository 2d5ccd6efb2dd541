import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC } from '../../shared/observability/metric-names.js';
import { DEFAULT_PERIOD, type ServiceMetrics, tableThrottles } from './service-metrics.js';

export interface AlarmThresholds {
  /** P99 time to first token, per 5 minutes, in milliseconds. */
  readonly timeToFirstTokenP99Ms: number;
  /** P99 turn latency, per 5 minutes, in milliseconds. */
  readonly turnLatencyP99Ms: number;
  /** Failed model calls (not started, or broken off) as a percentage of calls over 5 minutes. */
  readonly errorRatePercent: number;
  /** Failed model calls over 5 minutes below which the error rate does not alarm. */
  readonly errorRateMinFailures: number;
  /** Month-to-date spend as a percentage of the global monthly budget. */
  readonly budgetUsedPercent: number;
  /** Model spend in one day, in USD. */
  readonly dailyCostUsd: number;
  /**
   * Age of the oldest message on the jobs queue, in seconds; above the longest a job that only
   * waits is counted (`longestJobWaitSeconds`).
   */
  readonly jobsQueueAgeSeconds: number;
}

export interface AlarmSources {
  /** Our own metrics, in the stack's namespace. */
  readonly metrics: ServiceMetrics;
  readonly chatFunction: lambda.IFunction;
  readonly workerFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly table: dynamodb.ITable;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly thresholds: AlarmThresholds;
}

/** An alarm that fires when the metric is above the threshold (below, with `whenBelow`). */
export interface AlarmDefinition {
  /** Construct id; stable. */
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
  /** Consecutive periods above the threshold. @default 1 */
  readonly evaluationPeriods?: number;
  /**
   * With no data, the alarm keeps its state instead of going back to OK: for a metric
   * that says how things stand, not what happened (sampled only while there is traffic).
   * @default false: no traffic is no problem
   */
  readonly keepStateWithoutData?: boolean;
  /**
   * Fires when the metric is below the threshold, and when it has no data: for something that
   * must keep happening. @default false
   */
  readonly whenBelow?: boolean;
}

/** Every alarm: latency, errors, budget burn, the table, the jobs queues. */
export function alarmDefinitions(s: AlarmSources): AlarmDefinition[] {
  const t = s.thresholds;
  const m = s.metrics;
  const maximum = { statistic: 'Maximum', period: DEFAULT_PERIOD };
  return [
    {
      id: 'TimeToFirstTokenP99',
      metric: m.chat(METRIC.timeToFirstToken, 'p99'),
      threshold: t.timeToFirstTokenP99Ms,
      description: `P99 time to first token above ${t.timeToFirstTokenP99Ms} ms for 15 minutes`,
      // A p99 over a few samples is noise: three periods in a row before paging.
      evaluationPeriods: 3,
    },
    {
      id: 'TurnLatencyP99',
      metric: m.chat(METRIC.turnLatency, 'p99'),
      threshold: t.turnLatencyP99Ms,
      description: `P99 turn latency above ${t.turnLatencyP99Ms} ms for 15 minutes`,
      evaluationPeriods: 3,
    },
    {
      id: 'ErrorRate',
      metric: m.errorRatePercent({ minFailures: t.errorRateMinFailures }),
      threshold: t.errorRatePercent,
      description: `More than ${t.errorRatePercent}% of model calls (chat turns and /v1/messages calls), and at least ${t.errorRateMinFailures}, failed in 5 minutes: the model could not start answering (after retries and the fallback model), or the answer broke off`,
    },
    {
      id: 'ChatErrors',
      metric: s.chatFunction.metricErrors({ period: DEFAULT_PERIOD }),
      threshold: 0,
      description: 'The chat function failed (Lambda Errors)',
    },
    {
      id: 'WorkerErrors',
      metric: s.workerFunction.metricErrors({ period: DEFAULT_PERIOD }),
      threshold: 0,
      description:
        'The worker failed (Lambda Errors: a crash, out of memory or time): its batch comes back after the visibility timeout, and a job that fails so 5 times goes to the dead-letter queue',
    },
    {
      id: 'MaintenanceErrors',
      metric: s.maintenanceFunction.metricErrors({ period: DEFAULT_PERIOD }),
      threshold: 0,
      description:
        'The maintenance sweep failed for 15 minutes (Lambda Errors; a run that could not check some turns fails too): turns whose function died stay unended until their conversation is used again, expired holds are not reclaimed, budget threshold events are not published',
      // It runs every minute: one failure is retried by the next run.
      evaluationPeriods: 3,
    },
    {
      id: 'MaintenanceNotRunning',
      metric: s.maintenanceFunction.metricInvocations({ period: DEFAULT_PERIOD }),
      threshold: 1,
      whenBelow: true,
      description:
        'The maintenance sweep has not run for 10 minutes (its schedule disabled, or its invocations throttled and dropped: the account out of concurrency): MaintenanceErrors cannot see it; turns whose function died stay unended, expired holds are not reclaimed nor dead calls billed, budget thresholds go unpublished and GlobalBudgetUsed unread',
      evaluationPeriods: 2,
    },
    {
      id: 'InternalErrors',
      metric: m.internalErrors(),
      threshold: 0,
      description:
        "A failure of ours that Lambda Errors and the error rate do not count, each an ERROR line: a request answered 5xx for other than the model (the table, the queue or a secret failing, or a bug), an answer not stored, a call's usage not settled or not recorded, a job message the worker failed on outside the job",
    },
    {
      id: 'UnhandledErrors',
      metric: m.unhandledErrors(),
      threshold: 0,
      description:
        'A promise rejected with nothing to observe it, in the chat, worker or maintenance function: a bug; the log line "unhandled promise rejection" has its cause',
    },
    {
      id: 'ChatThrottles',
      metric: s.chatFunction.metricThrottles({ period: DEFAULT_PERIOD }),
      threshold: 0,
      description: 'The chat function was throttled: requests were refused',
    },
    {
      id: 'WorkerThrottles',
      metric: s.workerFunction.metricThrottles({ period: DEFAULT_PERIOD }),
      threshold: 0,
      description:
        "The worker was throttled (the account's concurrency, or workerReservedConcurrency): jobs wait, and a batch throttled past the jobs queue's visibility timeout comes back with a delivery spent (5 and the job is dead-lettered); JobsQueueAge cannot see it, as SQS stops aging a message at its third receive",
    },
    {
      id: 'DynamoDbThrottles',
      metric: tableThrottles(s.table),
      threshold: 0,
      description:
        'DynamoDB throttled requests to the table: a hot item or partition, or the table quota (docs/scaling.md). The SDK retries them, so turns slow down before they fail',
    },
    {
      id: 'GlobalBudgetUsed',
      metric: m.maintenance(METRIC.globalBudgetUsedPercent, 'Maximum'),
      threshold: t.budgetUsedPercent,
      description: `Month-to-date spend (chat and jobs) above ${t.budgetUsedPercent}% of the global monthly budget`,
      // Read by each maintenance run: a run that could not read it leaves the state as it was.
      keepStateWithoutData: true,
    },
    {
      id: 'BudgetOverrun',
      metric: m.totalBudgetOverrunUsd(),
      threshold: 0,
      description:
        'A call cost more than the worst case reserved for it: a budget may be exceeded by that much (see docs/failure-modes.md)',
    },
    {
      id: 'DailyCost',
      metric: m.totalCostUsd(Duration.days(1)),
      threshold: t.dailyCostUsd,
      description: `Model spend (chat and jobs) above ${t.dailyCostUsd.toFixed(2)} USD in a day: faster than the monthly budget allows`,
    },
    {
      id: 'DeadLetters',
      metric: s.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        ...maximum,
        period: Duration.minutes(1),
      }),
      threshold: 0,
      description: 'Jobs reached the dead-letter queue',
    },
    {
      id: 'EventsNotPublished',
      metric: m.eventsNotPublished(),
      threshold: 0,
      description:
        'Events for producers (job ends, progress, budget thresholds) could not be published to the events topic: a producer waiting for a job to end does not hear of it (GET /v1/jobs/{id} still says how it ended)',
    },
    {
      id: 'JobsQueueAge',
      metric: s.jobsQueue.metricApproximateAgeOfOldestMessage(maximum),
      threshold: t.jobsQueueAgeSeconds,
      // Above the longest a job that only waits (its retries, its batch) is counted: SQS ages a
      // message from its send, and stops counting it at its third receive (shared/jobs/queue-age.ts).
      description: `A job has waited more than ${t.jobsQueueAgeSeconds} s on the queue for a worker: the worker is not keeping up, or the queue is not polled (a job waiting out its retries or its batch is never counted that long)`,
    },
  ];
}
