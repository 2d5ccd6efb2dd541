import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../shared/config/settings.js';
import { ERROR_TYPE_DIMENSION, METRIC } from '../../shared/observability/metric-names.js';
import { metricsRead } from '../infra/metrics-read.js';
import { environmentOf, logicalId, synthesize } from '../infra/synth.js';
import { waitForJob } from './support/jobs.js';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string }>;
}

/**
 * An EMF metric published with a dimension set the alarms do not read is another metric in
 * CloudWatch: its alarm never fires; one published under another stack's namespace is counted by
 * that stack's alarms. What the functions publish, for the calls and jobs of a day, is checked
 * against what the deployed alarms and dashboard of a stack of that name read: the default stack's,
 * and a second stack's beside it in the same account and region.
 */
describe.each([SETTINGS.stackName.defaultValue!, 'ClaudeServerless-staging'])(
  'the metrics the functions of the stack %s publish',
  (stackName) => {
    let stack: TestStack;
    const published: Array<Record<string, unknown>> = [];
    let stopCapture: () => void;
    beforeAll(async () => {
      stopCapture = capturePublishedMetrics(published);
      stack = await startTestStack({ worker: true, stackName });
    });
    afterAll(async () => {
      await stack?.close();
      stopCapture();
    });

    it('are each read by an alarm or the dashboard, with the one dimension set they read', async () => {
      await collectSse(await stack.chat('metered', { message: 'hi' }));
      await collectSse(
        await stack.chat('metered', {
          message: 'go [[local-claude: fault=error-mid after=2 type=overloaded_error]]',
        }),
      );
      // Far more input than the reservation expects: BudgetOverrunUsd.
      await collectSse(
        await stack.chat('overrun', { message: 'hi [[local-claude: input-tokens=2000000]]' }),
      );
      const call = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await stack.token('metered-messages')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-6',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      await call.text();
      const { jobId } = await json(
        await stack.request('metered-job', 'POST', '/v1/jobs', { type: 'summarize', text: 'memo' }),
      );
      await waitForJob(stack, 'metered-job', jobId, { statuses: ['succeeded'] });
      await stack.sweep();

      const deployed = synthesize({ context: { stackName } });
      const reads = metricsRead(deployed.json);
      // What the deployed stack gives its functions: its own name, not another stack's.
      const namespace = environmentOf(
        deployed.json,
        logicalId(deployed.stack, deployed.stack.chat.handler.function.functionName),
      ).POWERTOOLS_METRICS_NAMESPACE;
      expect(namespace).toBe(stackName);
      const read = (name: string, service: string) =>
        reads.some((m) => m.namespace === namespace && m.name === name && m.service === service);
      expect([read(METRIC.requests, 'chat'), read(METRIC.requests, 'worker')]).toEqual([
        true,
        false,
      ]);
      const seen = new Set<string>();
      const unread: string[] = [];
      for (const line of published) {
        const directives = (line._aws as { CloudWatchMetrics: EmfDirective[] }).CloudWatchMetrics;
        for (const { Namespace, Dimensions, Metrics } of directives) {
          for (const { Name } of Metrics) {
            const service = String(line.service);
            seen.add(`${service} ${Name}`);
            expect({ Name, Namespace, Dimensions }).toEqual({
              Name,
              Namespace: namespace,
              // ModelErrors is read by a SEARCH over its ErrorType (the dashboard) only.
              Dimensions: [
                Name === METRIC.modelErrors ? ['service', ERROR_TYPE_DIMENSION] : ['service'],
              ],
            });
            if (Name !== METRIC.modelErrors && !read(Name, service))
              unread.push(`${service} ${Name}`);
          }
        }
      }
      for (const expected of [
        `chat ${METRIC.requests}`,
        `chat ${METRIC.turnsFailed}`,
        `chat ${METRIC.modelErrors}`,
        `chat ${METRIC.budgetOverrunUsd}`,
        `chat ${METRIC.costUsd}`,
        `worker ${METRIC.costUsd}`,
        `worker ${METRIC.jobsSucceeded}`,
        `maintenance ${METRIC.holdsReclaimed}`,
      ]) {
        expect(seen).toContain(expected);
      }
      expect([...new Set(unread)]).toEqual([]);
    });
  },
);
