import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMaintenanceHandler } from '../../../../functions/maintenance/app.js';
import { SERVICE } from '../../../../shared/observability/metric-names.js';
import type { SweepReport } from '../../../../shared/turns/sweep-turns.js';

const context = {
  functionName: 'maintenance',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 50_000,
} as unknown as Context;
const event = {} as ScheduledEvent;

describe('the maintenance handler', () => {
  beforeEach(() => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  const handlerSweeping = (report: SweepReport, watchBudgets = vi.fn(async () => 0)) => ({
    watchBudgets,
    handler: createMaintenanceHandler({
      sweep: async () => report,
      watchBudgets,
      logger: new Logger({ serviceName: SERVICE.maintenance }),
      metrics: new Metrics({ namespace: 'ClaudeServerless', serviceName: SERVICE.maintenance }),
      tracer: new Tracer({ serviceName: SERVICE.maintenance, enabled: false }),
    }),
  });

  const CLEAN_SWEEP: SweepReport = {
    recovered: 0,
    reclaimed: 0,
    abandoned: 0,
    failed: 0,
    deferred: 0,
    reclaimFailed: false,
  };
  /** The EMF lines a run wrote (stdout is mocked in beforeEach). */
  const publishedLines = () =>
    vi
      .mocked(process.stdout.write)
      .mock.calls.map(([line]) => String(line))
      .filter((line) => line.includes('_aws'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("publishes the deployment's budget used each run, and runs on when it cannot read it", async () => {
    const runWith = (globalBudgetUsed: () => Promise<number>) =>
      createMaintenanceHandler({
        sweep: async () => CLEAN_SWEEP,
        globalBudgetUsed,
        logger: new Logger({ serviceName: SERVICE.maintenance }),
        metrics: new Metrics({ namespace: 'ClaudeServerless', serviceName: SERVICE.maintenance }),
        tracer: new Tracer({ serviceName: SERVICE.maintenance, enabled: false }),
      })(event, context);

    await runWith(async () => 62.5);
    expect(publishedLines()).toContainEqual(
      expect.objectContaining({ service: SERVICE.maintenance, GlobalBudgetUsedPercent: 62.5 }),
    );
    vi.mocked(process.stdout.write).mockClear();

    await expect(runWith(() => Promise.reject(new Error('throttled')))).resolves.toEqual(
      CLEAN_SWEEP,
    );
    expect(publishedLines().some((line) => 'GlobalBudgetUsedPercent' in line)).toBe(false);
  });

  it('returns the report of a sweep that checked every turn', async () => {
    const { handler } = handlerSweeping({
      recovered: 1,
      reclaimed: 2,
      abandoned: 1,
      failed: 0,
      deferred: 0,
      reclaimFailed: false,
    });

    expect(await handler(event, context)).toEqual({
      recovered: 1,
      reclaimed: 2,
      abandoned: 1,
      failed: 0,
      deferred: 0,
      reclaimFailed: false,
    });
  });

  it('fails the invocation when some turns could not be checked, so that Lambda counts an error, after checking the budgets', async () => {
    const { handler, watchBudgets } = handlerSweeping({
      recovered: 1,
      reclaimed: 0,
      abandoned: 0,
      failed: 2,
      deferred: 0,
      reclaimFailed: false,
    });

    await expect(handler(event, context)).rejects.toThrow(/2 turn\(s\) could not be checked/);
    expect(watchBudgets).toHaveBeenCalledOnce();
  });
});
