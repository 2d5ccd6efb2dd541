import { beforeAll, describe, expect, it } from 'vitest';
import { alarmMetrics, dashboardMetrics, dashboardSearches, theDashboard } from './metrics-read.js';
import { type CfnTemplate, type Synthesized, synthesize } from './synth.js';

/**
 * Two stacks in one account and region (staging beside production, or an old stack left
 * running after a rename) must not count each other's metrics: each stack's functions publish
 * under its own namespace, and its alarms and dashboard read only that one.
 */
const AWS_NAMESPACE = /^AWS\//;

/** What each function of the stack publishes its metrics under. */
function publishedNamespaces(json: CfnTemplate): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(json.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([id, resource]) => {
        const env = (
          resource.Properties as { Environment?: { Variables: Record<string, unknown> } }
        ).Environment?.Variables;
        return [id, env?.POWERTOOLS_METRICS_NAMESPACE];
      }),
  );
}

/** Our metrics (not AWS's) that the alarms and the dashboard read, without their namespace. */
const oursRead = (json: CfnTemplate, from: 'alarms' | 'dashboard') =>
  (from === 'alarms' ? alarmMetrics(json) : dashboardMetrics(theDashboard(json)))
    .filter((metric) => !AWS_NAMESPACE.test(metric.namespace))
    .map(({ name, service }) => `${service ?? '(search)'} ${name}`)
    .sort();

const namespacesRead = (json: CfnTemplate, from: 'alarms' | 'dashboard') =>
  new Set(
    (from === 'alarms' ? alarmMetrics(json) : dashboardMetrics(theDashboard(json)))
      .map((metric) => metric.namespace)
      .filter((namespace) => !AWS_NAMESPACE.test(namespace)),
  );

let byDefault: Synthesized;
let staging: Synthesized;

beforeAll(() => {
  byDefault = synthesize();
  staging = synthesize({ context: { stackName: 'ClaudeServerless-staging' } });
});

describe('the default stack', () => {
  it('publishes and reads its metrics under ClaudeServerless, as every deployment has, so their history, alarms and dashboard carry on', () => {
    const published = Object.values(publishedNamespaces(byDefault.json));
    expect(published).toEqual(['ClaudeServerless', 'ClaudeServerless', 'ClaudeServerless']);
    expect(namespacesRead(byDefault.json, 'alarms')).toEqual(new Set(['ClaudeServerless']));
    expect(namespacesRead(byDefault.json, 'dashboard')).toEqual(new Set(['ClaudeServerless']));
    expect(dashboardSearches(theDashboard(byDefault.json))).toEqual([
      `SEARCH('{ClaudeServerless,ErrorType,service} MetricName="ModelErrors"', 'Sum', 300)`,
    ]);
  });
});

describe('a stack of another name in the same account and region', () => {
  it("has each of its functions publish under the stack's name", () => {
    const published = publishedNamespaces(staging.json);
    expect(Object.keys(published)).toHaveLength(3);
    for (const [id, namespace] of Object.entries(published)) {
      expect(namespace, id).toBe('ClaudeServerless-staging');
    }
  });

  it('reads only its own namespace in every alarm', () => {
    expect(namespacesRead(staging.json, 'alarms')).toEqual(new Set(['ClaudeServerless-staging']));
  });

  it('reads only its own namespace in every dashboard graph and SEARCH', () => {
    expect(namespacesRead(staging.json, 'dashboard')).toEqual(
      new Set(['ClaudeServerless-staging']),
    );
    // CloudWatch's search syntax wants a namespace with other than letters and digits quoted.
    expect(dashboardSearches(theDashboard(staging.json))).toEqual([
      `SEARCH('{"ClaudeServerless-staging",ErrorType,service} MetricName="ModelErrors"', 'Sum', 300)`,
    ]);
  });

  it('reads the very metrics the default stack reads, so none is left unwatched', () => {
    for (const from of ['alarms', 'dashboard'] as const) {
      expect(oursRead(staging.json, from), from).toEqual(oursRead(byDefault.json, from));
    }
    expect(oursRead(staging.json, 'alarms').length).toBeGreaterThan(10);
  });
});
