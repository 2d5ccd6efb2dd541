import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { GlobalBudgetUsed } from '../../shared/budget/global-budget-used.js';
import { METRIC } from '../../shared/observability/metric-names.js';
import type { SweepReport, SweepTurns } from '../../shared/turns/sweep-turns.js';

/**
 * The share of a run's time spent checking turns: the rest is for the reclaims, the budgets
 * and publishing what the run did. A backlog larger than that is left to the next runs.
 */
const CHECKING_SHARE = 0.5;
/** The share of a run's time kept for the end of the run: no budget check starts in it. */
const PUBLISHING_SHARE = 0.1;

/**
 * The maintenance function, run every minute by a schedule: ends the turns whose
 * function died (their answers kept, their holds released) and reclaims expired holds.
 */
export function createMaintenanceHandler(deps: {
  sweep: SweepTurns;
  /**
   * Publishes the budget thresholds crossed since the last run (best effort), checking none
   * once `hasTime` says no: how many spenders it left unchecked.
   */
  watchBudgets?: (options: { hasTime: () => boolean }) => Promise<number>;
  /** The deployment's month-to-date spend as a percentage of its budget, for the budget-burn alarm. */
  globalBudgetUsed?: GlobalBudgetUsed;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}) {
  return middy<ScheduledEvent, SweepReport, Error, Context>()
    .use(captureLambdaHandler(deps.tracer, { captureResponse: false }))
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .handler(async (_event, context) => {
      // A run that reached its timeout would publish nothing (what recovered turns cost
      // included), reclaim nothing and check no budget, and the next would do the same.
      const leftAtStartMs = context.getRemainingTimeInMillis();
      const checkUntilLeftMs = leftAtStartMs * (1 - CHECKING_SHARE);
      const report = await deps.sweep({
        hasTime: () => context.getRemainingTimeInMillis() > checkUntilLeftMs,
      });
      deps.metrics.addMetric(METRIC.turnsRecovered, MetricUnit.Count, report.recovered);
      deps.metrics.addMetric(METRIC.holdsReclaimed, MetricUnit.Count, report.reclaimed);
      deps.metrics.addMetric(METRIC.callsAbandoned, MetricUnit.Count, report.abandoned);
      deps.metrics.addMetric(METRIC.turnsDeferred, MetricUnit.Count, report.deferred);
      if (report.recovered + report.reclaimed + report.failed > 0 || report.reclaimFailed) {
        deps.logger.info('swept dead turns and expired holds', { ...report });
      }
      if (report.deferred > 0) {
        deps.logger.warn('out of time: turns left for the next sweeps', { ...report });
      }
      if (report.failed > 0) deps.logger.warn('some turns could not be checked', { ...report });
      // Each run, whatever calls ran: jobs' spend too, and a month that stands still.
      await deps
        .globalBudgetUsed?.()
        .then((percent) =>
          deps.metrics.addMetric(METRIC.globalBudgetUsedPercent, MetricUnit.Percent, percent),
        )
        .catch((error: unknown) => deps.logger.warn('could not read the global budget', { error }));
      const unchecked = await deps
        .watchBudgets?.({
          hasTime: () => context.getRemainingTimeInMillis() > leftAtStartMs * PUBLISHING_SHARE,
        })
        .catch((error: unknown) => {
          deps.metrics.addMetric(METRIC.eventsNotPublished, MetricUnit.Count, 1);
          deps.logger.warn('could not check the budgets', { error });
        });
      if (unchecked) {
        deps.logger.warn('out of time: budgets left for the next sweep', { unchecked });
      }
      // A failed invocation, so that Lambda's Errors, and MaintenanceErrors once it lasts,
      // see a sweep that keeps failing on some turns: returned, it paged no one.
      if (report.failed > 0) {
        throw new Error(
          `${report.failed} turn(s) could not be checked; the next sweep tries again`,
        );
      }
      if (report.reclaimFailed) {
        throw new Error('could not reclaim the expired holds; the next sweep tries again');
      }
      return report;
    });
}
