import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createChatAdapters } from '../../../functions/chat/compose.js';
import { createMaintenanceAdapters } from '../../../functions/maintenance/compose.js';
import { createWorkerAdapters } from '../../../functions/worker/compose.js';
import { type FunctionRole, loadSettings } from '../../../shared/config/load-settings.js';
import { METRIC } from '../../../shared/observability/metric-names.js';

/** A stack's function environment, as the stack named ClaudeServerless-staging sets it. */
const STAGING_ENV = {
  TABLE_NAME: 't',
  POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless-staging',
  JOBS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/jobs',
  DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:9/000000000000/jobs-dlq',
  ANTHROPIC_API_KEY: 'k',
  JWT_SECRET: 's',
  SIGNING_KEY: 'c',
};

/** The metrics each function's composition root builds, from the settings of `env`. */
const METRICS_OF: Record<FunctionRole, (env: typeof STAGING_ENV) => Promise<Metrics>> = {
  chat: async (env) => {
    const adapters = createChatAdapters(loadSettings(env));
    // Its adapters load in the background: let them, so that nothing outlives the test.
    await adapters.loaded.catch(() => {});
    return adapters.createMetrics();
  },
  worker: async (env) => createWorkerAdapters(loadSettings(env, { role: 'worker' })).metrics,
  maintenance: async (env) =>
    createMaintenanceAdapters(loadSettings(env, { role: 'maintenance' })).metrics,
};

describe("the functions' metrics", () => {
  let written: string[];
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    // Powertools reads it when no namespace is given: the test shows the settings' is used.
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', undefined);
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it.each(['chat', 'worker', 'maintenance'] as const)(
    'of the %s function are published (EMF) under the namespace its stack gives it',
    async (role) => {
      const metrics = await METRICS_OF[role](STAGING_ENV);
      metrics.addMetric(METRIC.internalErrors, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();

      const emf = written
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"_aws"'))
        .map(
          (line) =>
            JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string }[] } } & Record<
              string,
              unknown
            >,
        );
      expect(emf).toHaveLength(1);
      expect(emf[0]!._aws.CloudWatchMetrics.map((directive) => directive.Namespace)).toEqual([
        'ClaudeServerless-staging',
      ]);
      expect(emf[0]).toMatchObject({ service: role, [METRIC.internalErrors]: 1 });
    },
  );
});
