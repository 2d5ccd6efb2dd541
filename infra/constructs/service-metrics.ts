import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import {
  ERROR_TYPE_DIMENSION,
  METRIC,
  type MetricName,
  SERVICE,
} from '../../shared/observability/metric-names.js';

/** Period of every alarm and graph unless stated otherwise. */
export const DEFAULT_PERIOD = Duration.minutes(5);

type Service = (typeof SERVICE)[keyof typeof SERVICE];

const ALL_SERVICES: Service[] = [SERVICE.chat, SERVICE.worker, SERVICE.maintenance];
/** The functions that call the model. */
const SPENDING_SERVICES: Service[] = [SERVICE.chat, SERVICE.worker];
/**
 * The functions that publish spend (`CostUsd`, the token counts): those that call the model,
 * and the sweep, for the dead turns it ends, whose functions never published theirs.
 */
const SPEND_PUBLISHING_SERVICES: Service[] = [...SPENDING_SERVICES, SERVICE.maintenance];

/**
 * Our metrics as Powertools emits them: one stack's namespace (see metricsNamespaceOf),
 * dimension `service`. Names come only from METRIC, the contract with the emitting functions.
 */
export class ServiceMetrics {
  /** @param namespace the namespace the stack's functions publish under (their POWERTOOLS_METRICS_NAMESPACE) */
  constructor(readonly namespace: string) {}

  metric(
    service: Service,
    metricName: MetricName,
    statistic: string,
    options: { period?: Duration; label?: string } = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { service },
      statistic,
      period: options.period ?? DEFAULT_PERIOD,
      ...(options.label && { label: options.label }),
    });
  }

  chat(name: MetricName, statistic: string, label?: string): cloudwatch.Metric {
    return this.metric(SERVICE.chat, name, statistic, label ? { label } : {});
  }

  worker(name: MetricName, statistic: string, label?: string): cloudwatch.Metric {
    return this.metric(SERVICE.worker, name, statistic, label ? { label } : {});
  }

  maintenance(name: MetricName, statistic: string, label?: string): cloudwatch.Metric {
    return this.metric(SERVICE.maintenance, name, statistic, label ? { label } : {});
  }

  /** p50, p90 and p99 of a chat latency metric. */
  chatPercentiles(name: MetricName): cloudwatch.Metric[] {
    return ['p50', 'p90', 'p99'].map((statistic) =>
      this.chat(name, statistic, `${name} ${statistic}`),
    );
  }

  /** Response cache hits as a percentage of lookups (hits + misses); 0 when there were none. */
  cacheHitRatioPercent(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    // Each counter is emitted only when it counts, and math on a missing value is missing:
    // unfilled, a period of misses only (a cold cache) or of hits only would show nothing.
    const hits = 'FILL(hits, 0)';
    const lookups = `(${hits} + FILL(misses, 0))`;
    return new cloudwatch.MathExpression({
      expression: `IF(${lookups} > 0, 100 * ${hits} / ${lookups}, 0)`,
      usingMetrics: {
        hits: this.metric(SERVICE.chat, METRIC.responseCacheHits, 'Sum', { period }),
        misses: this.metric(SERVICE.chat, METRIC.responseCacheMisses, 'Sum', { period }),
      },
      label: 'Cache hit ratio (%)',
      period,
    });
  }

  /**
   * Failed model calls as a percentage of calls; 0 when there were none, or fewer than
   * `minFailures` failed.
   */
  errorRatePercent(
    options: { period?: Duration; minFailures?: number } = {},
  ): cloudwatch.MathExpression {
    const { period = DEFAULT_PERIOD, minFailures = 1 } = options;
    return new cloudwatch.MathExpression({
      expression: `IF(requests > 0 AND FILL(failed, 0) >= ${minFailures}, 100 * FILL(failed, 0) / requests, 0)`,
      usingMetrics: {
        requests: this.metric(SERVICE.chat, METRIC.requests, 'Sum', { period }),
        failed: this.metric(SERVICE.chat, METRIC.turnsFailed, 'Sum', { period }),
      },
      label: 'Failed calls (%)',
      period,
    });
  }

  /**
   * ModelErrors by ErrorType: the types are open-ended (they come from the model's
   * errors), so a SEARCH finds every one emitted.
   */
  modelErrorsByType(): cloudwatch.MathExpression {
    const schema = `{${searchSchemaName(this.namespace)},${ERROR_TYPE_DIMENSION},service}`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${schema} MetricName="${METRIC.modelErrors}"', 'Sum', ${DEFAULT_PERIOD.toSeconds()})`,
      label: '',
      period: DEFAULT_PERIOD,
    });
  }

  /** Events for producers (job ends, progress, budget thresholds) the topic did not take, in any function. */
  eventsNotPublished(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    return this.summedOver(ALL_SERVICES, METRIC.eventsNotPublished, 'Events not published', period);
  }

  /** Turns whose function died, ended by the sweep or by the chat function (their next turn or stop). */
  turnsRecovered(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    return this.summedOver(
      [SERVICE.chat, SERVICE.maintenance],
      METRIC.turnsRecovered,
      'Dead turns ended (interrupted)',
      period,
    );
  }

  /** Failures of ours that neither Lambda's Errors nor the error rate count, in any function. */
  internalErrors(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    return this.summedOver(
      ALL_SERVICES,
      METRIC.internalErrors,
      'Internal errors (every function)',
      period,
    );
  }

  /** Rejections nothing observed, in any function. */
  unhandledErrors(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    return this.summedOver(ALL_SERVICES, METRIC.unhandledErrors, 'Unhandled rejections', period);
  }

  /** Spend beyond the reservations, in USD, chat and jobs together. */
  totalBudgetOverrunUsd(period: Duration = DEFAULT_PERIOD): cloudwatch.MathExpression {
    return this.summedOver(
      SPENDING_SERVICES,
      METRIC.budgetOverrunUsd,
      'Spend beyond reservations (USD)',
      period,
    );
  }

  /** Model spend of the chat function and the worker together (dead turns the sweep ended too), in USD. */
  totalCostUsd(period: Duration, label = 'Model spend (USD)'): cloudwatch.MathExpression {
    return this.summedOver(SPEND_PUBLISHING_SERVICES, METRIC.costUsd, label, period);
  }

  /** Tokens of one kind the chat function and the worker used together (dead turns the sweep ended too). */
  totalTokens(
    name: MetricName,
    label: string,
    period: Duration = DEFAULT_PERIOD,
  ): cloudwatch.MathExpression {
    return this.summedOver(SPEND_PUBLISHING_SERVICES, name, label, period);
  }

  /** One metric summed over the functions that emit it, a period one did not emit counting as 0. */
  private summedOver(
    services: Service[],
    name: MetricName,
    label: string,
    period: Duration,
  ): cloudwatch.MathExpression {
    // Ids name the metric too, as one graph may sum several.
    const id = (service: Service) => `${service}${name}`;
    return new cloudwatch.MathExpression({
      expression: services.map((service) => `FILL(${id(service)}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(
        services.map((service) => [id(service), this.metric(service, name, 'Sum', { period })]),
      ),
      label,
      period,
    });
  }
}

/**
 * A namespace as a SEARCH metric schema names it: in double quotes when it holds other than
 * letters and digits (a stack name's hyphen), as the search expression syntax requires.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html
 */
function searchSchemaName(namespace: string): string {
  return /^[A-Za-z0-9]+$/.test(namespace) ? namespace : `"${namespace}"`;
}

/** The operations the functions send the table (an alarm's math expression takes at most 10). */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

/**
 * Requests DynamoDB throttled on the table, over the operations the functions send. DynamoDB
 * publishes ThrottledRequests only for an operation that was throttled, and a sum is missing
 * wherever one of its terms is: CDK's metricThrottledRequestsForOperations adds them unfilled,
 * so its sum (and an alarm on it) saw a throttle only when every operation was throttled at once.
 */
export function tableThrottles(table: dynamodb.ITable): cloudwatch.MathExpression {
  const id = (operation: dynamodb.Operation) => operation.toLowerCase();
  return new cloudwatch.MathExpression({
    expression: TABLE_OPERATIONS.map((operation) => `FILL(${id(operation)}, 0)`).join(' + '),
    usingMetrics: Object.fromEntries(
      TABLE_OPERATIONS.map((operation) => [
        id(operation),
        table.metric('ThrottledRequests', {
          dimensionsMap: { TableName: table.tableName, Operation: operation },
          period: DEFAULT_PERIOD,
          statistic: 'Sum',
        }),
      ]),
    ),
    label: 'Throttled requests',
    period: DEFAULT_PERIOD,
  });
}
