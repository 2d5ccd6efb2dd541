import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { monthOf } from '../../shared/domain/budget.js';
import { createApiKey } from './support/api-keys.js';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { createApiOperations, type SoakKey } from './support/soak/api-operations.js';
import { cutBudgetsMidRun } from './support/soak/budget-cut.js';
import { budgetsHeld } from './support/soak/budget-invariants.js';
import { createCancelStopOperations } from './support/soak/cancel-stop-operations.js';
import { createChatOperations } from './support/soak/chat-operations.js';
import {
  historiesWellFormed,
  noUnaskedFor5xx,
  shownIsStored,
} from './support/soak/history-invariants.js';
import { jobEndsPublishedOnce, runningCancelsEnded } from './support/soak/job-event-invariants.js';
import {
  costUsdMatches,
  jobsEndedBilledOnce,
  ledgerMatchesRecords,
  nothingHeld,
} from './support/soak/ledger-invariants.js';
import {
  changeLimitsMidRun,
  setPrincipalBudget,
  type UsageAtRaise,
} from './support/soak/limit-changes.js';
import { quiesce } from './support/soak/quiesce.js';
import { seededRandom } from './support/soak/seeded-random.js';
import { createSoakClient } from './support/soak/soak-client.js';
import { createSoakLog } from './support/soak/soak-log.js';
import { printSoakSummary } from './support/soak/soak-summary.js';
import { scanAll } from './support/soak/table-scan.js';
import { createWorkload } from './support/soak/workload.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * A seeded soak: many users, three API keys, and every kind of call interleaved (turns, stops,
 * resumes, regenerates, edits, deletes mid-answer, /v1/messages, useChat and its Stop by
 * question, jobs (some cancelled as they run), compactions,
 * injected upstream failures, a principal's and a key's budgets lowered mid-run and others
 * raised, another principal's set to 0 (its cached answers refused too), a key revoked and
 * another rate limited mid-run, maintenance every few seconds); then,
 * quiesced, the invariants that must hold whatever the interleaving. SOAK_OPERATIONS,
 * SOAK_WORKERS and SOAK_SEED run it longer, wider or otherwise by hand.
 */
const OPERATIONS = Number(process.env.SOAK_OPERATIONS ?? 200);
const SEED = Number(process.env.SOAK_SEED ?? 20261202);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 8);
const USERS = ['ada', 'bo', 'cy', 'di', 'ed'];
/** Its budget is lowered mid-run, so that some of its calls are refused. */
const LOWERED = 'di';
/** Its budget, small enough to refuse some of its calls at once, is raised mid-run. */
const RAISED = 'ed';
const RAISED_BUDGETS_USD = [0.1, 0.2] as const;
const MODEL = 'claude-sonnet-4-6';

describe('a seeded soak of mixed operations', () => {
  let stack: TestStack;
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;
  const log = createSoakLog(USERS);
  const keys: SoakKey[] = [];
  const raised: UsageAtRaise[] = [];
  let zeroKey: SoakKey;
  let jobEnds: TopicSubscriber;
  /** svc-b's budget, raised mid-run from the first to the second. */
  const SMALL_KEY_BUDGETS_USD = [0.004, 0.008] as const;

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({
      worker: true,
      env: {
        COMPACTION_THRESHOLD_TOKENS: '250',
        JOB_RETRY_BASE_SECONDS: '1',
        // Stalled streams are cut soon.
        STREAM_IDLE_TIMEOUT_MS: '1000',
        // Repeated questions are replayed from the response cache.
        RESPONSE_CACHE_TTL_SECONDS: '3600',
        MESSAGES_STREAM_IDLE_TIMEOUT_MS: '1500',
        // A batch job cancelled while its batch runs cancels it at its next look.
        BATCH_POLL_SECONDS: '1',
      },
      claude: { batchProcessingMs: 4_000 },
      chatTuning: {
        answerPieceIntervalMs: 100,
        followPollIntervalMs: 50,
        stopPollIntervalMs: 50,
        pingIntervalMs: 1_000,
      },
      maintenanceEveryMs: 2_000,
      // A compaction whose conversation kept changing is retried by SQS: soon, here.
      queue: { visibilityTimeoutSeconds: 10 },
      workerTimeoutMs: 9_000,
    });
    keys.push({
      ...(await createApiKey(stack, { principal: 'svc-a', monthlyBudgetUsd: 5 })),
      principal: 'svc-a',
    });
    keys.push({
      ...(await createApiKey(stack, {
        principal: 'svc-b',
        monthlyBudgetUsd: SMALL_KEY_BUDGETS_USD[0],
      })),
      principal: 'svc-b',
    });
    await setPrincipalBudget(stack, RAISED, RAISED_BUDGETS_USD[0]);
    // Revoked mid-run.
    keys.push({
      ...(await createApiKey(stack, { principal: 'svc-c', monthlyBudgetUsd: 1 })),
      principal: 'svc-c',
    });
    // Its principal's budget is set to 0 mid-run: no answer, not even a cached one, after that.
    zeroKey = {
      ...(await createApiKey(stack, { principal: 'svc-z', monthlyBudgetUsd: 1 })),
      principal: 'svc-z',
    };
    jobEnds = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `soak-job-ends-${randomUUID().slice(0, 8)}`,
      filterPolicy: { type: ['job.ended'] },
    });
  }, 60_000);
  afterAll(async () => {
    stopCapture();
    await jobEnds?.close();
    await stack.close();
  });

  it('keeps every invariant after the traffic is quiesced', async () => {
    const client = createSoakClient(stack, log);
    const cancelStop = createCancelStopOperations(client, log, { zeroKey, model: MODEL });
    await cancelStop.warmZeroKeyCache();
    const operation = createWorkload(
      USERS,
      createChatOperations(client, log),
      createApiOperations(client, log, { keys, model: MODEL }),
      cancelStop,
    );
    // The stack runs in this process: a stalled event loop is what times jobs and streams out.
    const loopDelay = monitorEventLoopDelay({ resolution: 50 });
    loopDelay.enable();
    const startedAt = Date.now();
    const perWorker = Math.ceil(OPERATIONS / WORKERS);
    let done = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const rand = seededRandom(SEED + w);
        for (let i = 0; i < perWorker; i++) {
          try {
            await operation(rand);
          } catch (error) {
            log.failures.push(`worker ${w} op ${i}: ${String((error as Error).stack ?? error)}`);
          }
          done++;
          if (done === Math.floor(OPERATIONS / 2)) {
            await cutBudgetsMidRun(stack, client, LOWERED, keys[0]!);
            await setPrincipalBudget(stack, zeroKey.principal, 0);
            log.zeroBudgetSince = Date.now();
          }
          if (done === Math.floor((OPERATIONS * 2) / 3)) {
            const [svcA, svcB, svcC] = keys as [SoakKey, SoakKey, SoakKey];
            raised.push(
              ...(await changeLimitsMidRun(stack, client, {
                raisedKey: svcB,
                raisedPrincipal: RAISED,
                raises: { keyUsd: SMALL_KEY_BUDGETS_USD, principalUsd: RAISED_BUDGETS_USD },
                revoked: svcC,
                rateLimited: svcA,
              })),
            );
          }
        }
      }),
    );
    const trafficEndedAt = Date.now();
    await quiesce(stack);
    // Every end published so far, read off the subscription.
    await jobEnds.waitFor(() => false, { timeoutMs: 3_000 }).catch(() => {});
    loopDelay.disable();
    console.info(
      `traffic ${trafficEndedAt - startedAt} ms, quiesced in ${Date.now() - trafficEndedAt} ms,`,
      `event loop delay p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms, max ${Math.round(loopDelay.max / 1e6)} ms`,
    );

    const items = await scanAll(stack, () => true);
    const month = monthOf(Date.now());
    const report = [
      ...log.failures,
      ...nothingHeld(items),
      ...ledgerMatchesRecords(items, month),
      ...costUsdMatches(items, month, published),
      ...historiesWellFormed(items),
      ...shownIsStored(items, log),
      ...noUnaskedFor5xx(log),
      ...jobsEndedBilledOnce(items, month, log),
      ...runningCancelsEnded(items, log, stack.claude.requests),
      ...jobEndsPublishedOnce(
        items,
        jobEnds.seen.map((d) => d.event),
        log,
      ),
      ...budgetsHeld(
        items,
        month,
        {
          byLedger: new Map([
            [`APIKEY#${keys[0]!.id}`, 5],
            [`APIKEY#${keys[1]!.id}`, SMALL_KEY_BUDGETS_USD[1]],
            [`APIKEY#${keys[2]!.id}`, 1],
            [`USER#${RAISED}`, RAISED_BUDGETS_USD[1]],
          ]),
          userDefaultUsd: 10,
          globalUsd: 1000,
        },
        published,
        raised,
      ),
    ];
    printSoakSummary(items, month, log);
    expect(report).toEqual([]);
  }, 300_000);
});
