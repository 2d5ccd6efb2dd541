import type { RecordedRequest } from '../../../../local-stack/local-claude/index.js';
import { usdToNano } from '../../../../shared/domain/pricing/model-price.js';
import type { JobEndedEvent } from '../../../../shared/events/producer-events.js';
import type { SoakLog } from './soak-log.js';
import type { Item } from './table-scan.js';

/**
 * A job whose cancel was accepted while it ran (202) ended `cancelled` (a batch job may end
 * otherwise only while it holds its batch); a standard one's Claude call was cut.
 */
export function runningCancelsEnded(
  items: Item[],
  log: SoakLog,
  claudeRequests: readonly RecordedRequest[],
): string[] {
  const report: string[] = [];
  const jobs = new Map(items.filter((i) => i.sk === 'JOB').map((j) => [String(j.jobId), j]));
  for (const { jobId, batch, marker, outputTokens } of log.runningCancels) {
    const job = jobs.get(jobId);
    if (!job) continue;
    if (job.status !== 'cancelled' && !(batch && job.batch !== undefined)) {
      report.push(
        `job ${jobId} (${batch ? 'batch' : 'standard'}), cancelled while running (202), ended ${job.status}: ${JSON.stringify(job.error)}`,
      );
    }
    const calls = claudeRequests.filter(
      (r) => r.path === '/v1/messages' && JSON.stringify(r.body ?? null).includes(marker),
    );
    // Cut, it sent less than its whole answer (of `outputTokens`, or up to `max_tokens`).
    const uncut = calls.filter(
      (call) =>
        call.outputTokensSent >=
        Math.min(outputTokens, Number((call.body as { max_tokens?: number }).max_tokens)),
    );
    if (!batch && job.status === 'cancelled' && uncut.length > 0) {
      report.push(
        `job ${jobId}, cancelled while running, ended with its Claude call not cut: ${uncut.map((c) => c.outputTokensSent).join(',')} tokens sent`,
      );
    }
  }
  return report;
}

/** Every ended job's end is published once, with the status and cost the job keeps. */
export function jobEndsPublishedOnce(items: Item[], events: readonly unknown[]): string[] {
  const report: string[] = [];
  const endsOf = new Map<string, JobEndedEvent[]>();
  for (const event of events as JobEndedEvent[]) {
    endsOf.set(event.jobId, [...(endsOf.get(event.jobId) ?? []), event]);
  }
  for (const job of items.filter((i) => i.sk === 'JOB')) {
    const jobId = String(job.jobId);
    const ends = endsOf.get(jobId) ?? [];
    const ended = ['succeeded', 'failed', 'cancelled', 'dead_lettered'].includes(
      String(job.status),
    );
    if (!ended) {
      if (ends.length > 0)
        report.push(`job ${jobId} ${job.status}, published ended ${ends.length}×`);
      continue;
    }
    if (ends.length !== 1) {
      report.push(
        `job ${jobId} ${job.status}, job.ended published ${ends.length}× (${ends.map((e) => e.status).join(',')})`,
      );
      continue;
    }
    const [end] = ends as [JobEndedEvent];
    const costNano = end.costUsd === undefined ? 0 : usdToNano(end.costUsd);
    if (end.status !== job.status || Math.abs(costNano - Number(job.costNanoUsd ?? 0)) > 1) {
      report.push(
        `job ${jobId} ${job.status} cost ${job.costNanoUsd}, published ${end.status} cost ${end.costUsd}`,
      );
    }
  }
  return report;
}
