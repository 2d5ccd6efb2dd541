import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC } from '../../shared/observability/metric-names.js';
import {
  cacheHitRatioPercent,
  chatMetric,
  chatPercentiles,
  DEFAULT_PERIOD,
  errorRatePercent,
  eventsNotPublished,
  internalErrors,
  maintenanceMetric,
  modelErrorsByType,
  tableThrottles,
  totalBudgetOverrunUsd,
  totalCostUsd,
  totalTokens,
  turnsRecovered,
  unhandledErrors,
  workerMetric,
} from './service-metrics.js';

export interface DashboardSources {
  readonly chatFunction: lambda.IFunction;
  readonly table: dynamodb.ITable;
  readonly workerFunction: lambda.IFunction;
  readonly maintenanceFunction: lambda.IFunction;
  readonly jobsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarms: cloudwatch.IAlarm[];
}

const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
  new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });

/** The dashboard: chat traffic and latency, errors, tokens and spend, then the jobs. */
export function addDashboardWidgets(dashboard: cloudwatch.Dashboard, s: DashboardSources): void {
  const lambdaPeriod = { period: DEFAULT_PERIOD };
  const queueDepth = (queue: sqs.IQueue, label: string) =>
    queue.metricApproximateNumberOfMessagesVisible({
      ...lambdaPeriod,
      statistic: 'Maximum',
      label,
    });

  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: s.alarms, width: 24, height: 3 }),
  );
  dashboard.addWidgets(
    graph(
      'Requests and failed calls',
      [
        chatMetric(METRIC.requests, 'Sum', 'Requests'),
        chatMetric(METRIC.turnsFailed, 'Sum', 'Failed calls'),
      ],
      [errorRatePercent()],
    ),
    graph('Time to first token (ms)', chatPercentiles(METRIC.timeToFirstToken)),
    graph('Turn latency (ms)', chatPercentiles(METRIC.turnLatency)),
  );
  dashboard.addWidgets(
    graph('Model errors by type', [modelErrorsByType()]),
    graph('Chat function errors and throttles', [
      s.chatFunction.metricErrors({ ...lambdaPeriod, label: 'Errors' }),
      s.chatFunction.metricThrottles({ ...lambdaPeriod, label: 'Throttles' }),
      internalErrors(),
    ]),
    graph('Rejections', [
      chatMetric(METRIC.rateLimitRejections, 'Sum', 'Rate limit (429)'),
      chatMetric(METRIC.budgetRejections, 'Sum', 'Budget (402)'),
    ]),
  );
  dashboard.addWidgets(
    graph(
      'Response cache',
      [
        chatMetric(METRIC.responseCacheHits, 'Sum', 'Hits (free)'),
        chatMetric(METRIC.responseCacheMisses, 'Sum', 'Misses'),
      ],
      [cacheHitRatioPercent()],
    ),
    graph(
      'Table',
      [tableThrottles(s.table)],
      [
        s.table.metricConsumedWriteCapacityUnits({ ...lambdaPeriod, label: 'Write units' }),
        s.table.metricConsumedReadCapacityUnits({ ...lambdaPeriod, label: 'Read units' }),
      ],
    ),
  );
  dashboard.addWidgets(
    graph('Tokens (chat and jobs)', [
      totalTokens(METRIC.inputTokens, 'Input'),
      totalTokens(METRIC.outputTokens, 'Output'),
      totalTokens(METRIC.cacheReadInputTokens, 'Cache read'),
      totalTokens(METRIC.cacheCreationInputTokens, 'Cache write'),
    ]),
    graph(
      'Spend',
      [
        totalCostUsd(Duration.hours(1), 'Model spend, chat and jobs (USD per hour)'),
        totalBudgetOverrunUsd(),
      ],
      [chatMetric(METRIC.globalBudgetUsedPercent, 'Maximum', 'Global budget used (%)')],
    ),
    graph(
      'Jobs queue',
      [queueDepth(s.jobsQueue, 'Jobs waiting'), queueDepth(s.deadLetterQueue, 'Dead letters')],
      [
        s.jobsQueue.metricApproximateAgeOfOldestMessage({
          ...lambdaPeriod,
          statistic: 'Maximum',
          label: 'Oldest job (s)',
        }),
      ],
    ),
  );
  dashboard.addWidgets(
    graph('Jobs', [
      workerMetric(METRIC.jobsSucceeded, 'Sum', 'Succeeded'),
      workerMetric(METRIC.jobsFailed, 'Sum', 'Failed'),
      eventsNotPublished(),
    ]),
    graph('Job duration (ms)', [
      workerMetric(METRIC.jobDuration, 'p50', 'Job p50'),
      workerMetric(METRIC.jobDuration, 'p99', 'Job p99'),
      s.workerFunction.metricDuration({
        ...lambdaPeriod,
        statistic: 'p99',
        label: 'Invocation p99',
      }),
    ]),
    graph('Worker function errors and throttles', [
      s.workerFunction.metricErrors({ ...lambdaPeriod, label: 'Errors' }),
      s.workerFunction.metricThrottles({ ...lambdaPeriod, label: 'Throttles' }),
    ]),
    graph('Maintenance sweep', [
      turnsRecovered(),
      maintenanceMetric(METRIC.holdsReclaimed, 'Sum', 'Expired holds reclaimed'),
      maintenanceMetric(METRIC.turnsDeferred, 'Maximum', 'Turns left for the next sweep'),
      s.maintenanceFunction.metricErrors({ ...lambdaPeriod, label: 'Sweep errors' }),
      unhandledErrors(),
    ]),
  );
}
