import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, SERVICE } from '../../shared/observability/metric-names.js';
import { dashboardMetrics } from './metrics-read.js';
import { logicalId, type Synthesized, synthesize } from './synth.js';

interface AlarmProperties {
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  TreatMissingData?: string;
  AlarmActions?: unknown[];
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Namespace: string }; Stat: string };
  }[];
}

const ALARM_EMAIL = 'oncall@example.com';
/** The default stack's metrics namespace (test/infra/metrics-namespace.test.ts checks other stacks). */
const METRICS_NAMESPACE = 'ClaudeServerless';
let s: Synthesized;
let alarms: Record<string, AlarmProperties>;

beforeAll(() => {
  s = synthesize({ context: { alarmEmail: ALARM_EMAIL } });
  alarms = Object.fromEntries(
    Object.entries(s.json.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, resource]) => [
        id.replace(/^Observability/, '').replace(/[0-9A-F]{8}$/, ''),
        resource.Properties as unknown as AlarmProperties,
      ]),
  );
});

/** A metric-math alarm's expression, and each input as [metric, service, statistic, period]. */
function summed(alarmId: string) {
  const metrics = alarms[alarmId]?.Metrics as Array<{
    Expression?: string;
    MetricStat?: {
      Metric: { MetricName: string; Dimensions: Array<{ Value: string }> };
      Stat: string;
      Period: number;
    };
  }>;
  return {
    expression: metrics.find((m) => m.Expression)?.Expression,
    inputs: metrics.flatMap(({ MetricStat: stat }) =>
      stat
        ? [[stat.Metric.MetricName, stat.Metric.Dimensions[0]?.Value, stat.Stat, stat.Period]]
        : [],
    ),
  };
}

const ours = (service: string) => ({
  Namespace: METRICS_NAMESPACE,
  Dimensions: [{ Name: 'service', Value: service }],
});

describe('the alarms', () => {
  it('alarm on P99 time to first token and turn latency above the configured thresholds', () => {
    expect(alarms.TimeToFirstTokenP99).toMatchObject({
      ...ours(SERVICE.chat),
      MetricName: METRIC.timeToFirstToken,
      ExtendedStatistic: 'p99',
      Threshold: s.config.timeToFirstTokenP99AlarmMs,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.TurnLatencyP99).toMatchObject({
      ...ours(SERVICE.chat),
      MetricName: METRIC.turnLatency,
      ExtendedStatistic: 'p99',
      Threshold: s.config.turnLatencyP99AlarmMs,
    });
  });

  it('alarm when more than 1% of turns, and at least 3, fail in 5 minutes', () => {
    const alarm = alarms.ErrorRate!;
    expect(alarm.Threshold).toBe(1);
    const byId = Object.fromEntries((alarm.Metrics ?? []).map((m) => [m.Id, m]));
    const expression = Object.values(byId).find((m) => m.Expression)?.Expression ?? '';
    expect(expression).toBe(
      'IF(requests > 0 AND FILL(failed, 0) >= 3, 100 * FILL(failed, 0) / requests, 0)',
    );
    expect(byId.failed?.MetricStat).toMatchObject({
      Metric: { ...ours(SERVICE.chat), MetricName: METRIC.turnsFailed },
      Stat: 'Sum',
      Period: 300,
    });
    expect(byId.requests?.MetricStat).toMatchObject({
      Metric: { ...ours(SERVICE.chat), MetricName: METRIC.requests },
      Stat: 'Sum',
      Period: 300,
    });
  });

  it('alarm on any chat function error or throttle', () => {
    const chat = { Ref: logicalId(s.stack, s.stack.chat.handler.function.functionName) };
    for (const [alarm, metricName] of [
      ['ChatErrors', 'Errors'],
      ['ChatThrottles', 'Throttles'],
    ] as const) {
      expect(alarms[alarm]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: chat }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarm on any worker throttle: a throttled batch spends deliveries, which the queue age stops counting', () => {
    const worker = { Ref: logicalId(s.stack, s.stack.jobs.worker.function.functionName) };
    expect(alarms.WorkerThrottles).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: worker }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm on any worker error, and on a maintenance sweep failing for 15 minutes', () => {
    const errorsOf = (fn: { functionName: string }) => ({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(s.stack, fn.functionName) } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.WorkerErrors).toMatchObject({
      ...errorsOf(s.stack.jobs.worker.function),
      EvaluationPeriods: 1,
    });
    expect(alarms.MaintenanceErrors).toMatchObject({
      ...errorsOf(s.stack.maintenance.handler.function),
      EvaluationPeriods: 3,
    });
  });

  it('alarm on any throttled request to the table, summed over the operations the functions send', () => {
    const table = { Ref: logicalId(s.stack, s.stack.data.table.tableName) };
    const alarm = alarms.DynamoDbThrottles!;
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    const throttled = (alarm.Metrics ?? []).flatMap((metric) =>
      metric.MetricStat ? [metric.MetricStat] : [],
    );
    expect(throttled.map((stat) => stat.Metric.MetricName)).toEqual(
      Array(throttled.length).fill('ThrottledRequests'),
    );
    expect(throttled.map((stat) => stat.Metric.Namespace)).toContain('AWS/DynamoDB');
    const operations = throttled.map(
      (stat) =>
        (stat.Metric as unknown as { Dimensions: { Name: string; Value: unknown }[] }).Dimensions,
    );
    for (const dimensions of operations) {
      expect(dimensions).toContainEqual({ Name: 'TableName', Value: table });
    }
    expect(
      operations.map((dimensions) => dimensions.find((d) => d.Name === 'Operation')?.Value),
    ).toEqual(
      expect.arrayContaining(['GetItem', 'PutItem', 'UpdateItem', 'Query', 'TransactWriteItems']),
    );
    expect(alarm.Metrics?.find((metric) => metric.Expression)?.Expression).toMatch(/\+/);
  });

  it('alarm on throttles of one operation alone: each operation missing from a period counts as 0', () => {
    // DynamoDB publishes ThrottledRequests only for an operation that was throttled, and a sum
    // of series is missing wherever one of them is: unfilled, it needs every operation at once.
    const { expression, inputs } = summed('DynamoDbThrottles');
    expect(inputs.length).toBeGreaterThan(1);
    const ids = (alarms.DynamoDbThrottles?.Metrics ?? []).flatMap((m) =>
      m.MetricStat ? [m.Id] : [],
    );
    for (const id of ids) expect(expression).toContain(`FILL(${id}, 0)`);
  });

  it('alarm on budget burn: month-to-date percentage and a daily pace', () => {
    // Read by the sweep each minute: jobs' spend too, whether or not chat calls run.
    expect(alarms.GlobalBudgetUsed).toMatchObject({
      ...ours(SERVICE.maintenance),
      MetricName: METRIC.globalBudgetUsedPercent,
      Statistic: 'Maximum',
      Threshold: 80,
    });
    // Chat and worker spend summed (jobs are billed to the same budget), and the sweep's:
    // the spend of the dead turns it ends, which their functions never published.
    expect(summed('DailyCost')).toEqual({
      expression: 'FILL(chatCostUsd, 0) + FILL(workerCostUsd, 0) + FILL(maintenanceCostUsd, 0)',
      inputs: [
        [METRIC.costUsd, SERVICE.chat, 'Sum', 86_400],
        [METRIC.costUsd, SERVICE.worker, 'Sum', 86_400],
        [METRIC.costUsd, SERVICE.maintenance, 'Sum', 86_400],
      ],
    });
    expect(alarms.DailyCost?.Threshold).toBeCloseTo(s.config.globalMonthlyBudgetUsd / 31, 6);
  });

  it('alarm on any spend beyond the reservations, chat and jobs together', () => {
    expect(summed('BudgetOverrun')).toEqual({
      expression: 'FILL(chatBudgetOverrunUsd, 0) + FILL(workerBudgetOverrunUsd, 0)',
      inputs: [
        [METRIC.budgetOverrunUsd, SERVICE.chat, 'Sum', 300],
        [METRIC.budgetOverrunUsd, SERVICE.worker, 'Sum', 300],
      ],
    });
    expect(alarms.BudgetOverrun).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm on any event the topic did not take, from any function', () => {
    expect(summed('EventsNotPublished')).toEqual({
      expression:
        'FILL(chatEventsNotPublished, 0) + FILL(workerEventsNotPublished, 0) + FILL(maintenanceEventsNotPublished, 0)',
      inputs: [
        [METRIC.eventsNotPublished, SERVICE.chat, 'Sum', 300],
        [METRIC.eventsNotPublished, SERVICE.worker, 'Sum', 300],
        [METRIC.eventsNotPublished, SERVICE.maintenance, 'Sum', 300],
      ],
    });
    expect(alarms.EventsNotPublished).toMatchObject({ Threshold: 0 });
  });

  it('alarm on any failure of ours that Lambda Errors and the error rate miss, from any function', () => {
    expect(summed('InternalErrors')).toEqual({
      expression:
        'FILL(chatInternalErrors, 0) + FILL(workerInternalErrors, 0) + FILL(maintenanceInternalErrors, 0)',
      inputs: [
        [METRIC.internalErrors, SERVICE.chat, 'Sum', 300],
        [METRIC.internalErrors, SERVICE.worker, 'Sum', 300],
        [METRIC.internalErrors, SERVICE.maintenance, 'Sum', 300],
      ],
    });
    expect(alarms.InternalErrors).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm on dead letters and on jobs waiting too long', () => {
    const queue = (ref: string) => [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s.stack, ref), 'QueueName'] } },
    ];
    expect(alarms.DeadLetters).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queue(s.stack.jobs.deadLetterQueue.queueUrl),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.JobsQueueAge).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: queue(s.stack.jobs.queue.queueUrl),
      Threshold: s.config.jobsQueueAgeAlarmSeconds,
    });
  });

  it('notify the alarm topic, and treat no traffic as no problem', () => {
    const topic = { Ref: logicalId(s.stack, s.stack.observability.alarmTopic.topicArn) };
    expect(Object.keys(alarms)).toHaveLength(18);
    const missingData: Record<string, string> = {
      // The month's spend stays what it is while a run could not read it.
      GlobalBudgetUsed: 'ignore',
      // The sweep's silence is what it watches.
      MaintenanceNotRunning: 'breaching',
    };
    for (const [id, alarm] of Object.entries(alarms)) {
      expect(alarm.AlarmActions).toEqual([topic]);
      expect(alarm.TreatMissingData).toBe(missingData[id] ?? 'notBreaching');
    }
  });

  it('alarm when the maintenance sweep has not run for 10 minutes, which its errors cannot tell', () => {
    expect(alarms.MaintenanceNotRunning).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [
        {
          Name: 'FunctionName',
          Value: { Ref: logicalId(s.stack, s.stack.maintenance.handler.function.functionName) },
        },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 2,
    });
  });
});

describe('the alarm topic', () => {
  it('is encrypted with a key CloudWatch may use, refuses plain HTTP and mails the configured address', () => {
    const topicId = logicalId(s.stack, s.stack.observability.alarmTopic.topicArn);
    const topic = s.json.Resources[topicId]?.Properties as { KmsMasterKeyId: unknown };
    const keyId = (topic.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const keyPolicy = JSON.stringify(s.json.Resources[keyId]?.Properties?.KeyPolicy);
    expect(keyPolicy).toContain('cloudwatch.amazonaws.com');
    expect(s.json.Resources[keyId]?.Properties?.EnableKeyRotation).toBe(true);
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          // The topic's own policy replaces SNS's default: CloudWatch must be let in again.
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: Match.objectLike({
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            }),
          }),
        ]),
      },
    });
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: ALARM_EMAIL,
      TopicArn: { Ref: topicId },
    });
  });
});

describe('the dashboard', () => {
  it('graphs the tokens and the spend of jobs beside those of chat', () => {
    const [dashboard] = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const graphed = dashboardMetrics(dashboard!)
      .filter((m) => m.namespace === METRICS_NAMESPACE && m.service === SERVICE.worker)
      .map((m) => m.name);
    for (const name of [METRIC.inputTokens, METRIC.outputTokens, METRIC.costUsd]) {
      expect(graphed).toContain(name);
    }
  });

  it("graphs the tokens and the spend of the dead turns the sweep ends beside chat's and jobs'", () => {
    const [dashboard] = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const graphed = dashboardMetrics(dashboard!)
      .filter((m) => m.namespace === METRICS_NAMESPACE && m.service === SERVICE.maintenance)
      .map((m) => m.name);
    for (const name of [METRIC.inputTokens, METRIC.outputTokens, METRIC.costUsd]) {
      expect(graphed).toContain(name);
    }
  });

  it('counts the dead turns the chat function ends (a next turn, a stop) with those the sweep ends', () => {
    const [dashboard] = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const services = dashboardMetrics(dashboard!)
      .filter((m) => m.namespace === METRICS_NAMESPACE && m.name === METRIC.turnsRecovered)
      .map((m) => m.service);
    expect(new Set(services)).toEqual(new Set([SERVICE.chat, SERVICE.maintenance]));
  });

  it('shows the table: throttled requests, and the capacity it consumes', () => {
    const [dashboard] = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const table = dashboardMetrics(dashboard!).filter((m) => m.namespace === 'AWS/DynamoDB');
    expect(new Set(table.map((m) => m.name))).toEqual(
      new Set(['ThrottledRequests', 'ConsumedWriteCapacityUnits', 'ConsumedReadCapacityUnits']),
    );
  });
});

describe('the dashboard math', () => {
  it('fills the periods a counter was not emitted in, so that a sum or ratio of counters is not missing', () => {
    const [dashboard] = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const body = JSON.stringify(dashboard);
    // The cache hit ratio: a period of misses only (a cold cache) is 0%, of hits only 100%.
    const ratio = /"expression\\":\\"(IF\([^"\\]*hits[^"\\]*)\\"/.exec(body)?.[1];
    expect(ratio).toBeDefined();
    expect(ratio).not.toMatch(/(?<!FILL\()\b(hits|misses)\b(?!, 0\))/);
    // The table's throttled requests, as in the alarm.
    const throttles = /"expression\\":\\"([^"\\]*getitem[^"\\]*)\\"/.exec(body)?.[1];
    expect(throttles).toContain('FILL(getitem, 0)');
  });
});

describe('metric names', () => {
  it('used by every alarm and dashboard widget in our namespace are values of METRIC', () => {
    const known = new Set<string>(Object.values(METRIC));
    const used: { namespace: string; name: string }[] = [];
    for (const alarm of Object.values(alarms)) {
      if (alarm.MetricName) used.push({ namespace: alarm.Namespace!, name: alarm.MetricName });
      for (const metric of alarm.Metrics ?? []) {
        const stat = metric.MetricStat?.Metric;
        if (stat) used.push({ namespace: stat.Namespace, name: stat.MetricName });
      }
    }
    const dashboards = Object.values(s.json.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    expect(dashboards).toHaveLength(1);
    used.push(...dashboardMetrics(dashboards[0]!));

    const ourNames = used.filter((m) => m.namespace === METRICS_NAMESPACE).map((m) => m.name);
    expect(ourNames.filter((name) => !known.has(name))).toEqual([]);
    // And the dashboard shows every metric the functions emit.
    expect(new Set(ourNames)).toEqual(known);
    expect(
      used.every((m) =>
        [METRICS_NAMESPACE, 'AWS/Lambda', 'AWS/SQS', 'AWS/DynamoDB'].includes(m.namespace),
      ),
    ).toBe(true);
  });

  it('include model errors by type through a SEARCH over the ErrorType dimension', () => {
    const body = JSON.stringify(
      Object.values(s.json.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard'),
    );
    expect(body).toContain(
      `SEARCH('{${METRICS_NAMESPACE},ErrorType,service} MetricName=\\\\\\"${METRIC.modelErrors}\\\\\\"'`,
    );
  });
});
