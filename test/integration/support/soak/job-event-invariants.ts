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

/**
 * Every ended job's end is published once a run (a job asked for again runs again: an end
 * each time at most), the last with the status and cost the job keeps.
 */
export function jobEndsPublishedOnce(
  items: Item[],
  events: readonly unknown[],
  log: SoakLog,
): string[] {
  const report: string[] = [];
  const endsOf = new Map<string, JobEndedEvent[]>();
  for (const event of events as JobEndedEvent[]) {
    endsOf.set(event.jobId, [...(endsOf.get(event.jobId) ?? []), event]);
  }
  const timesAsked = new Map<string, number>();
  for (const { jobId } of log.jobIds) timesAsked.set(jobId, (timesAsked.get(jobId) ?? 0) + 1);
  for (const job of items.filter((i) => i.sk === 'JOB')) {
    const jobId = String(job.jobId);
    const ends = (endsOf.get(jobId) ?? []).sort((a, b) => a.at.localeCompare(b.at));
    const ended = ['succeeded', 'failed', 'cancelled', 'dead_lettered'].includes(
      String(job.status),
    );
    // A compaction is asked for by the chat, maybe again at a later threshold: not counted.
    const runs = timesAsked.get(jobId) ?? Number.POSITIVE_INFINITY;
    const published = ends.map((e) => e.status).join(',');
    if (ends.length > runs || (ended ? ends.length === 0 : ends.length === runs)) {
      report.push(
        `job ${jobId} ${job.status}, asked for ${runs}×, job.ended published ${ends.length}× (${published})`,
      );
      continue;
    }
    const last = ends.at(-1);
    if (!ended || !last) continue;
    const costNano = last.costUsd === undefined ? 0 : usdToNano(last.costUsd);
    if (last.status !== job.status || Math.abs(costNano - Number(job.costNanoUsd ?? 0)) > 1) {
      report.push(
        `job ${jobId} ${job.status} cost ${job.costNanoUsd}, published last ${last.status} cost ${last.costUsd} (${published})`,
      );
    }
  }
  return report;
}
