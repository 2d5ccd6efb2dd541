import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { JobMessage } from '../../shared/jobs/job-message.js';
import { METRIC } from '../../shared/observability/metric-names.js';
import { compactConversation } from './compact-conversation.js';
import type { WorkerDependencies } from './dependencies.js';
import { JobMeter } from './metered-model.js';
import { summarizeDocument } from './summarize-document.js';

export type IdentifiedJob = JobMessage & { jobId: string };

/** Does one job and records its outcome; failures are thrown to the caller to classify. */
export async function runJob(
  deps: WorkerDependencies,
  job: IdentifiedJob,
): Promise<{ summary: string }> {
  const now = () => new Date((deps.clock ?? Date.now)()).toISOString();
  const startedAt = (deps.clock ?? Date.now)();
  await deps.jobs.create({ jobId: job.jobId, userId: job.userId, type: job.type }, now());
  await deps.jobs.markRunning(job.userId, job.jobId, now());
  const meter = new JobMeter();
  const summary =
    job.type === 'summarize.document'
      ? await summarizeDocument(deps, job, meter)
      : await compactConversation(deps, job, meter);
  await deps.jobs.markSucceeded(
    job.userId,
    job.jobId,
    { summary, usage: meter.usage, costNanoUsd: meter.costNanoUsd },
    now(),
  );
  deps.metrics.addMetric(METRIC.jobsSucceeded, MetricUnit.Count, 1);
  deps.metrics.addMetric(
    METRIC.jobDuration,
    MetricUnit.Milliseconds,
    (deps.clock ?? Date.now)() - startedAt,
  );
  deps.logger.info('job succeeded', {
    jobId: job.jobId,
    userId: job.userId,
    type: job.type,
    usage: meter.usage,
    costNanoUsd: meter.costNanoUsd,
  });
  return { summary };
}
