import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyFailure } from '../../../../functions/worker/job-errors.js';
import { createJobObserver } from '../../../../functions/worker/observability.js';
import { ModelError, ValidationError } from '../../../../shared/domain/errors.js';
import { SERVICE } from '../../../../shared/observability/metric-names.js';
import { capturePublishedMetrics } from '../../../integration/support/published-metrics.js';

describe("the worker's failed attempts", () => {
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;
  beforeEach(() => {
    stopCapture = capturePublishedMetrics(published);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stopCapture();
    vi.restoreAllMocks();
    published.length = 0;
  });

  const observer = () =>
    createJobObserver(
      new Logger({ serviceName: SERVICE.worker }),
      new Metrics({ namespace: 'ClaudeServerless', serviceName: SERVICE.worker }),
    );
  const attempt = (error: unknown) => ({
    jobId: 'job_1',
    userId: 'alice',
    receiveCount: 1,
    failure: classifyFailure(error),
    error,
  });

  it('count a model failure by its type, as chat turns do, so an outage jobs meet shows', () => {
    observer().attemptFailed(attempt(new ModelError('overloaded', 'the model is overloaded')));

    expect(published).toContainEqual(
      expect.objectContaining({
        service: SERVICE.worker,
        ErrorType: 'overloaded_error',
        ModelErrors: 1,
      }),
    );
  });

  it('do not count a failure of ours as a model error', () => {
    observer().attemptFailed(attempt(new ValidationError('bad')));

    expect(published.filter((line) => 'ModelErrors' in line)).toEqual([]);
  });

  it("count a job call's usage not settled or not recorded, and a message failed on, as internal errors", () => {
    const jobs = observer();
    jobs.settlementFailed({ reservationId: 'res_1', error: new Error('throttled') } as never);
    jobs.usageNotRecorded(new Error('throttled'), { jobId: 'job_1', userId: 'alice' });
    jobs.recordFailed({ messageId: 'm-1', receiveCount: 1, error: new Error('denied') });

    const counted = published.filter((line) => line.service === SERVICE.worker);
    expect(counted.reduce((n, line) => n + ((line.InternalErrors as number) ?? 0), 0)).toBe(3);
  });

  it("log a job call's overrun with what the runbook's query reads: the job, its principal, key and reservation", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    observer().budgetOverrun({
      overrunNanoUsd: 1_500_000,
      jobId: 'job_1',
      userId: 'alice',
      apiKeyId: 'key_1',
      reservationId: 'res_1',
    });

    const logged = lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'));
    expect(logged.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'a job call cost more than its reservation',
        jobId: 'job_1',
        userId: 'alice',
        apiKeyId: 'key_1',
        reservationId: 'res_1',
        overrunUsd: 0.0015,
      }),
    );
  });
});
