import { describe, expect, it } from 'vitest';
import { createCompactionRequests } from '../../../../../functions/chat/turn/compaction-requests.js';
import { compactionJobId, contentHashOf } from '../../../../../shared/jobs/job-id.js';
import { InMemoryJobStore } from '../../../../fakes/in-memory-job-store.js';
import { RecordingJobQueue } from '../../../../fakes/recording-job-queue.js';
import { NOW_MS, USER } from './support.js';

const THRESHOLD_TOKENS = 1_000;
const CONVERSATION = `conv_${'c'.repeat(32)}`;
const CREATED_AT = '2026-11-01T00:00:00.000Z';
const CONVERSATION_MADE = { id: CONVERSATION, createdAt: CREATED_AT };

function compactionFixture() {
  const jobs = new InMemoryJobStore();
  const queue = new RecordingJobQueue();
  const clock = { nowMs: NOW_MS };
  const compaction = createCompactionRequests({
    jobs,
    queue,
    clock: () => clock.nowMs,
    thresholdTokens: THRESHOLD_TOKENS,
  });
  const requestIfDue = (
    historyTokens: number,
    summaryThroughSeq = 0,
    lastSeq = 40,
    superseded: Array<[number, number]> = [],
  ) =>
    compaction.requestIfDue({
      userId: USER,
      conversationId: CONVERSATION,
      conversationCreatedAt: CREATED_AT,
      model: 'claude-haiku-4-5',
      summaryThroughSeq,
      lastSeq,
      superseded,
      historyTokens,
    });
  const sentJobIds = () => queue.sent.map((message) => message.jobId);
  return { jobs, queue, clock, requestIfDue, sentJobIds };
}

describe('compaction requests', () => {
  it('asks for nothing while the history is within the threshold', async () => {
    const { jobs, queue, requestIfDue } = compactionFixture();

    await requestIfDue(THRESHOLD_TOKENS);

    expect(queue.sent).toEqual([]);
    expect(await jobs.get(USER, compactionJobId(USER, CONVERSATION_MADE, 0, 1))).toBeUndefined();
  });

  it('asks for nothing while the history past the threshold is only the messages a compaction keeps', async () => {
    const { jobs, queue, requestIfDue } = compactionFixture();

    await requestIfDue(THRESHOLD_TOKENS * 1.5, 10, 14);

    expect(queue.sent).toEqual([]);
    expect(await jobs.get(USER, compactionJobId(USER, CONVERSATION_MADE, 10, 1))).toBeUndefined();

    await requestIfDue(THRESHOLD_TOKENS * 1.6, 10, 16);

    expect(queue.sent.map((message) => message.jobId)).toEqual([
      compactionJobId(USER, CONVERSATION_MADE, 10, 1),
    ]);
  });

  it('counts no replaced message among those a compaction could fold', async () => {
    const { queue, requestIfDue } = compactionFixture();

    // A question, its answer regenerated three times: two messages a compaction reads.
    await requestIfDue(THRESHOLD_TOKENS * 1.5, 0, 5, [
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    // Edited since: the question and all its answers replaced by one question and answer.
    await requestIfDue(THRESHOLD_TOKENS * 1.5, 0, 7, [
      [2, 2],
      [3, 3],
      [4, 4],
      [1, 5],
    ]);

    expect(queue.sent).toEqual([]);
  });

  it('creates a queued job and sends it once the history passes the threshold', async () => {
    const { jobs, queue, requestIfDue } = compactionFixture();

    await requestIfDue(THRESHOLD_TOKENS + 1);

    const jobId = compactionJobId(USER, CONVERSATION_MADE, 0, 1);
    expect(queue.sent).toEqual([
      {
        type: 'summarize.conversation',
        userId: USER,
        conversationId: CONVERSATION,
        model: 'claude-haiku-4-5',
        summaryThroughSeq: 0,
        jobId,
      },
    ]);
    expect(await jobs.get(USER, jobId)).toMatchObject({
      status: 'queued',
      type: 'summarize.conversation',
      createdAt: new Date(NOW_MS).toISOString(),
    });
  });

  it('says its message was asked for when it recorded the job queued, so that a cancel landing before the send stands', async () => {
    const { jobs, queue, clock, requestIfDue, sentJobIds } = compactionFixture();

    await requestIfDue(1_200);
    clock.nowMs += 5_000;
    await requestIfDue(1_500);

    const [jobId] = sentJobIds();
    const job = await jobs.get(USER, jobId!);
    // The worker runs again a job cancelled before the time its message was asked for, only.
    expect(queue.askedAt).toEqual([job!.createdAt, new Date(NOW_MS + 5_000).toISOString()]);
    expect(job!.createdAt).toBe(new Date(NOW_MS).toISOString());
  });

  it("records the compaction's content hash, so that no document can take its id", async () => {
    const { jobs, sentJobIds, requestIfDue } = compactionFixture();

    await requestIfDue(THRESHOLD_TOKENS + 1);

    const [jobId] = sentJobIds();
    expect(await jobs.get(USER, jobId!)).toMatchObject({
      contentHash: contentHashOf({
        type: 'summarize.conversation',
        userId: USER,
        conversationId: CONVERSATION,
      }),
    });
  });

  it('asks under its alternate id when another job holds its id, leaving that job as it was', async () => {
    const { jobs, queue, requestIfDue, sentJobIds } = compactionFixture();
    const taken = compactionJobId(USER, CONVERSATION_MADE, 0, 1);
    const document = { jobId: taken, userId: USER, type: 'summarize.document' as const };
    await jobs.create({ ...document, contentHash: 'a'.repeat(64) }, CREATED_AT);

    await requestIfDue(THRESHOLD_TOKENS + 1);
    await requestIfDue(THRESHOLD_TOKENS + 2);

    const alternate = compactionJobId(USER, CONVERSATION_MADE, 0, 1, { alternate: true });
    expect(alternate).not.toBe(taken);
    expect(sentJobIds()).toEqual([alternate, alternate]);
    expect(queue.sent[0]).toMatchObject({ type: 'summarize.conversation', summaryThroughSeq: 0 });
    expect(await jobs.get(USER, taken)).toMatchObject({
      ...document,
      status: 'queued',
      createdAt: CREATED_AT,
      contentHash: 'a'.repeat(64),
    });
    expect(await jobs.get(USER, alternate)).toMatchObject({
      type: 'summarize.conversation',
      status: 'queued',
    });
  });

  it('takes an earlier compaction recorded without a content hash for its own', async () => {
    const { jobs, requestIfDue, sentJobIds } = compactionFixture();
    const jobId = compactionJobId(USER, CONVERSATION_MADE, 0, 1);
    await jobs.create({ jobId, userId: USER, type: 'summarize.conversation' }, CREATED_AT);

    await requestIfDue(THRESHOLD_TOKENS + 1);

    expect(sentJobIds()).toEqual([jobId]);
  });

  it('names the same job on every turn until a summary is saved, resending it only until it starts', async () => {
    const { jobs, requestIfDue, sentJobIds } = compactionFixture();

    await requestIfDue(1_200);
    await requestIfDue(1_500);
    const [jobId] = sentJobIds();
    await jobs.markRunning(USER, jobId!, new Date(NOW_MS).toISOString());
    await requestIfDue(1_800);

    expect(sentJobIds()).toEqual([jobId, jobId]);
    expect(await jobs.get(USER, jobId!)).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('does not send again a compaction waiting for its retry: its message is on the queue, delayed', async () => {
    const { jobs, requestIfDue, sentJobIds } = compactionFixture();
    await requestIfDue(1_200);
    const [jobId] = sentJobIds();
    const at = new Date(NOW_MS).toISOString();
    await jobs.markRunning(USER, jobId!, at);
    await jobs.markRetrying(USER, jobId!, { type: 'overloaded_error', message: 'busy' }, at);

    await requestIfDue(1_500);

    expect(sentJobIds()).toEqual([jobId]);
    expect(await jobs.get(USER, jobId!)).toMatchObject({ status: 'queued', attempts: 1 });
  });

  it('asks anew when the history passes another multiple of the threshold', async () => {
    const { requestIfDue, sentJobIds } = compactionFixture();

    await requestIfDue(1_500);
    await requestIfDue(2_100);

    const [first, second] = sentJobIds();
    expect(second).not.toBe(first);
  });

  it('asks anew once a summary was saved and the history grows past the threshold again', async () => {
    const { queue, requestIfDue, sentJobIds } = compactionFixture();

    await requestIfDue(1_500, 0);
    await requestIfDue(1_500, 12);

    expect(new Set(sentJobIds()).size).toBe(2);
    // Each extends the summary it saw, so the worker skips whichever another overtook.
    expect(
      queue.sent.map((message) => 'summaryThroughSeq' in message && message.summaryThroughSeq),
    ).toEqual([0, 12]);
  });

  describe('of a compaction that failed', () => {
    const MINUTE_MS = 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();

    /** The history's compaction job, run and ended `ranMs` after it was asked for. */
    async function endedCompaction(
      fixture: ReturnType<typeof compactionFixture>,
      status: 'failed' | 'dead_lettered',
      ranMs: number,
    ) {
      await fixture.requestIfDue(1_500);
      const [jobId] = fixture.sentJobIds();
      await fixture.jobs.markRunning(USER, jobId!, iso(fixture.clock.nowMs));
      fixture.clock.nowMs += ranMs;
      const error = { type: 'refusal', message: 'Claude refused' };
      await fixture.jobs.markFailed(USER, jobId!, { status, error }, iso(fixture.clock.nowMs));
      return jobId!;
    }

    it('asks for it again on the first turn a minute after it failed', async () => {
      const fixture = compactionFixture();
      const jobId = await endedCompaction(fixture, 'failed', 5_000);

      fixture.clock.nowMs += 30_000;
      await fixture.requestIfDue(1_600);
      expect(fixture.sentJobIds()).toEqual([jobId]);
      fixture.clock.nowMs += 30_000;
      await fixture.requestIfDue(1_700);

      expect(fixture.sentJobIds()).toEqual([jobId, jobId]);
      // Asked for since it failed: the worker runs it again.
      const failedAt = (await fixture.jobs.get(USER, jobId))!.updatedAt;
      expect(Date.parse(fixture.queue.askedAt[1]!)).toBeGreaterThan(Date.parse(failedAt));
      expect(fixture.queue.askedAt[1]).toBe(iso(fixture.clock.nowMs));
    });

    it('leaves a dead-lettered one to the operator: sent again, it would be dead-lettered and page again', async () => {
      const fixture = compactionFixture();
      const jobId = await endedCompaction(fixture, 'dead_lettered', 5_000);

      fixture.clock.nowMs += 60 * MINUTE_MS;
      await fixture.requestIfDue(1_600);

      expect(fixture.sentJobIds()).toEqual([jobId]);
    });

    it('waits as long as it had run before asking again, so one that keeps failing is asked ever less often', async () => {
      const fixture = compactionFixture();
      const jobId = await endedCompaction(fixture, 'failed', 10 * MINUTE_MS);

      fixture.clock.nowMs += 9 * MINUTE_MS;
      await fixture.requestIfDue(1_600);
      expect(fixture.sentJobIds()).toEqual([jobId]);
      fixture.clock.nowMs += MINUTE_MS;
      await fixture.requestIfDue(1_700);

      expect(fixture.sentJobIds()).toEqual([jobId, jobId]);
    });

    it('does not ask again for one that was cancelled', async () => {
      const fixture = compactionFixture();
      await fixture.requestIfDue(1_500);
      const [jobId] = fixture.sentJobIds();
      await fixture.jobs.cancel(USER, jobId!, iso(fixture.clock.nowMs));

      fixture.clock.nowMs += 60 * MINUTE_MS;
      await fixture.requestIfDue(1_600);

      expect(fixture.sentJobIds()).toEqual([jobId]);
    });
  });
});
