import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC } from '../../shared/observability/metric-names.js';
import { DEFAULT_PERIOD, type ServiceMetrics, tableThrottles } from './service-metrics.js';

export interface DashboardSources {
  /** Our own metrics, in the stack's namespace. */
  readonly metrics: ServiceMetrics;
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
  const m = s.metrics;
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
        m.chat(METRIC.requests, 'Sum', 'Requests'),
        m.chat(METRIC.turnsFailed, 'Sum', 'Failed calls'),
      ],
      [m.errorRatePercent()],
    ),
    graph('Time to first token (ms)', m.chatPercentiles(METRIC.timeToFirstToken)),
    graph('Turn latency (ms)', m.chatPercentiles(METRIC.turnLatency)),
  );
  dashboard.addWidgets(
    graph('Model errors by type', [m.modelErrorsByType()]),
    graph('Chat function errors and throttles', [
      s.chatFunction.metricErrors({ ...lambdaPeriod, label: 'Errors' }),
      s.chatFunction.metricThrottles({ ...lambdaPeriod, label: 'Throttles' }),
      m.internalErrors(),
    ]),
    graph('Rejections', [
      m.chat(METRIC.rateLimitRejections, 'Sum', 'Rate limit (429)'),
      m.chat(METRIC.budgetRejections, 'Sum', 'Budget (402)'),
    ]),
  );
  dashboard.addWidgets(
    graph(
      'Response cache',
      [
        m.chat(METRIC.responseCacheHits, 'Sum', 'Hits (free)'),
        m.chat(METRIC.responseCacheMisses, 'Sum', 'Misses'),
      ],
      [m.cacheHitRatioPercent()],
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
      m.totalTokens(METRIC.inputTokens, 'Input'),
      m.totalTokens(METRIC.outputTokens, 'Output'),
      m.totalTokens(METRIC.cacheReadInputTokens, 'Cache read'),
      m.totalTokens(METRIC.cacheCreationInputTokens, 'Cache write'),
    ]),
    graph(
      'Spend',
      [
        m.totalCostUsd(Duration.hours(1), 'Model spend, chat and jobs (USD per hour)'),
        m.totalBudgetOverrunUsd(),
      ],
      [m.maintenance(METRIC.globalBudgetUsedPercent, 'Maximum', 'Global budget used (%)')],
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
      m.worker(METRIC.jobsSucceeded, 'Sum', 'Succeeded'),
      m.worker(METRIC.jobsFailed, 'Sum', 'Failed'),
      m.eventsNotPublished(),
    ]),
    graph('Job duration (ms)', [
      m.worker(METRIC.jobDuration, 'p50', 'Job p50'),
      m.worker(METRIC.jobDuration, 'p99', 'Job p99'),
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
      m.turnsRecovered(),
      m.maintenance(METRIC.holdsReclaimed, 'Sum', 'Expired holds reclaimed'),
      m.maintenance(METRIC.callsAbandoned, 'Sum', 'Calls billed as abandoned'),
      m.maintenance(METRIC.turnsDeferred, 'Maximum', 'Turns left for the next sweep'),
      s.maintenanceFunction.metricErrors({ ...lambdaPeriod, label: 'Sweep errors' }),
      m.unhandledErrors(),
    ]),
  );
}
