import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../../../functions/worker/job-errors.js';
import { SETTINGS } from '../../../../shared/config/settings.js';
import {
  defaultJobsQueueAgeAlarmSeconds,
  longestJobWaitSeconds,
  MAX_RETRY_DELAY_SECONDS,
} from '../../../../shared/jobs/queue-age.js';
import { JOBS_QUEUE_DEFINITION } from '../../../../shared/jobs/queue-definition.js';

/** The settings' defaults (checked below). */
const DEFAULTS = { batchPollSeconds: 60, workerTimeoutSeconds: 120 };

/**
 * How old a job's message is at its third receive, when SQS stops counting it in the queue's
 * age: sent with `delaySeconds`, then two attempts that each run out the worker's timeout and
 * fail retryably, each handed back for the wait the worker computes.
 */
function ageAtThirdReceive(options: {
  delaySeconds: number;
  baseSeconds: number;
  workerTimeoutSeconds: number;
  retryAfterSeconds?: number;
}): number {
  const window = JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds;
  let age = options.delaySeconds + window;
  for (const receiveCount of [1, 2]) {
    age +=
      options.workerTimeoutSeconds +
      retryDelaySeconds(options.baseSeconds, receiveCount, options.retryAfterSeconds) +
      window;
  }
  return age;
}

describe("the longest a job that only waits is counted in the jobs queue's age", () => {
  it("is never less than the age the worker's own retries give a job, whatever the base and the retry-after", () => {
    for (const baseSeconds of [1, 30, 100, 450, MAX_RETRY_DELAY_SECONDS]) {
      for (const retryAfterSeconds of [undefined, 1, 60, 300, 3600]) {
        for (const delaySeconds of [0, DEFAULTS.batchPollSeconds, 900]) {
          const limits = { batchPollSeconds: Math.max(1, delaySeconds), workerTimeoutSeconds: 120 };
          const age = ageAtThirdReceive({
            delaySeconds,
            baseSeconds,
            workerTimeoutSeconds: 120,
            ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
          });
          expect(
            age,
            JSON.stringify({ baseSeconds, retryAfterSeconds, delaySeconds }),
          ).toBeLessThanOrEqual(longestJobWaitSeconds(limits));
        }
      }
    }
  });

  it('takes the defaults from the settings table', () => {
    expect(DEFAULTS).toEqual({
      batchPollSeconds: SETTINGS.batchPollSeconds.defaultValue,
      workerTimeoutSeconds: SETTINGS.workerTimeoutSeconds.defaultValue,
    });
  });

  it('is reached by a batch job whose two attempts run out the timeout and are asked to wait 15 minutes', () => {
    expect(
      ageAtThirdReceive({
        delaySeconds: DEFAULTS.batchPollSeconds,
        baseSeconds: 30,
        workerTimeoutSeconds: DEFAULTS.workerTimeoutSeconds,
        retryAfterSeconds: 3600,
      }),
    ).toBe(longestJobWaitSeconds(DEFAULTS));
    expect(longestJobWaitSeconds(DEFAULTS)).toBe(60 + 2 * (120 + 900) + 3);
  });

  it('puts the default alarm above it by at least five minutes, on a five-minute step', () => {
    expect(defaultJobsQueueAgeAlarmSeconds(DEFAULTS)).toBe(2700);
    for (const batchPollSeconds of [1, 60, 239, 240, 600, 900]) {
      for (const workerTimeoutSeconds of [10, 120]) {
        const limits = { batchPollSeconds, workerTimeoutSeconds };
        const threshold = defaultJobsQueueAgeAlarmSeconds(limits);
        expect(threshold % 300).toBe(0);
        expect(threshold - longestJobWaitSeconds(limits)).toBeGreaterThanOrEqual(300);
        expect(threshold - longestJobWaitSeconds(limits)).toBeLessThan(600);
      }
    }
  });
});
