import type { CfnResource, CfnTemplate } from './synth.js';

/** A metric an alarm or a dashboard graph reads; `service` is our dimension's value, when it has one. */
export interface MetricRead {
  namespace: string;
  name: string;
  service?: string;
}

interface MetricProperties {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: unknown }[];
}

const serviceOf = (dimensions: MetricProperties['Dimensions'] = []) => {
  const value = dimensions.find((dimension) => dimension.Name === 'service')?.Value;
  return typeof value === 'string' ? value : undefined;
};

const read = (namespace: string, name: string, service?: string): MetricRead => ({
  namespace,
  name,
  ...(service && { service }),
});

/** Every metric the template's alarms read: an alarm's own, or each input of its math. */
export function alarmMetrics(json: CfnTemplate): MetricRead[] {
  return Object.values(json.Resources)
    .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
    .flatMap((alarm) => {
      const properties = alarm.Properties as MetricProperties & {
        Metrics?: { MetricStat?: { Metric: MetricProperties } }[];
      };
      const metrics = [
        properties,
        ...(properties.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])),
      ];
      return metrics.flatMap(({ Namespace, MetricName, Dimensions }) =>
        Namespace && MetricName ? [read(Namespace, MetricName, serviceOf(Dimensions))] : [],
      );
    });
}

/** The SEARCH expressions among a dashboard's metrics, as written. */
export function dashboardSearches(dashboard: CfnResource): string[] {
  return graphedMetrics(dashboard).flatMap((metric) => {
    const expression = (metric.at(-1) as { expression?: string }).expression;
    return expression?.startsWith('SEARCH(') ? [expression] : [];
  });
}

/** Every `[namespace, metricName, ...]` array and SEARCH expression in a dashboard's body. */
export function dashboardMetrics(dashboard: CfnResource): MetricRead[] {
  const found: MetricRead[] = [];
  for (const metric of graphedMetrics(dashboard)) {
    const [first, second, dimension, value] = metric;
    if (typeof first === 'string' && typeof second === 'string' && first !== '.') {
      const service = dimension === 'service' && typeof value === 'string' ? value : undefined;
      found.push(read(first, second, service));
    }
  }
  for (const expression of dashboardSearches(dashboard)) {
    // The schema's namespace, quoted when it holds other than letters and digits.
    const schema = /\{(?:"([^"]+)"|([^,}]+))[^}]*\} MetricName="([^"]+)"/.exec(expression);
    if (schema) found.push(read((schema[1] ?? schema[2])!, schema[3]!));
  }
  return found;
}

/** The template's one dashboard; throws when there is none or more than one. */
export function theDashboard(json: CfnTemplate): CfnResource {
  const dashboards = Object.values(json.Resources).filter(
    (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
  );
  if (dashboards.length !== 1) throw new Error(`${dashboards.length} dashboards in the template`);
  return dashboards[0]!;
}

/** Every metric the template's alarms and its dashboard read. */
export function metricsRead(json: CfnTemplate): MetricRead[] {
  return [...alarmMetrics(json), ...dashboardMetrics(theDashboard(json))];
}

function graphedMetrics(dashboard: CfnResource): unknown[][] {
  const body = dashboard.Properties?.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  // References (function names, queue names) are not metric names: stand-ins do.
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
  const widgets = (JSON.parse(text) as { widgets: { properties: { metrics?: unknown[][] } }[] })
    .widgets;
  return widgets.flatMap((widget) => widget.properties.metrics ?? []);
}
