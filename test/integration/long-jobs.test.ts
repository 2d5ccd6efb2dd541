import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_JOB_ANSWER_BYTES } from '../../functions/worker/answer-size.js';
import { subscribeQueue } from '../../local-stack/sns/topics.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { usdToNano } from '../../shared/domain/pricing/model-price.js';
import { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { utf8Bytes } from '../../shared/domain/tokens.js';
import type { JobEndedEvent } from '../../shared/events/producer-events.js';
import { bodyText } from './support/claude-requests.js';
import { conversationOf, requestCompaction } from './support/compactions.js';
import { waitForJob } from './support/jobs.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

const promptsOf = (stack: TestStack) => stack.claude.requests.map(bodyText);

describe('long documents with the default settings', () => {
  let stack: TestStack;
  afterAll(() => stack?.close());

  it('summarizes a 600 KB document by map-reduce, showing its progress', async () => {
    stack = await startTestStack({ worker: true });
    const paragraph = (i: number) =>
      `Paragraph ${i}. The quarterly review covered revenue, costs and hiring in detail. `.repeat(
        8,
      );
    let text = '';
    for (let i = 0; text.length < 600_000; i++) text += `${paragraph(i)}\n\n`;
    expect(text.length).toBeGreaterThanOrEqual(600_000);

    // A new user: the parts' reservations race to start their month.
    const created = await stack.request('reader', 'POST', '/v1/jobs', { type: 'summarize', text });
    expect(created.status).toBe(202);
    const { jobId } = await json(created);
    const job = await waitForJob(stack, 'reader', jobId, { timeoutMs: 60_000 });

    expect(job, JSON.stringify(job.error)).toMatchObject({ status: 'succeeded' });
    const parts = promptsOf(stack).filter((p) => p.includes('of a longer document'));
    // 600,000 bytes ≈ 150,000 estimated tokens, in parts of at most 20,000.
    expect(parts.length).toBeGreaterThanOrEqual(8);
    expect(promptsOf(stack).filter((p) => p.includes('into one summary'))).toHaveLength(1);
    expect(job.progress).toEqual({ round: 1, partsDone: parts.length, partsTotal: parts.length });
  });
});

describe('batch jobs', () => {
  it('complete through the Message Batches API, billed at half the price in the ledger', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { BATCH_POLL_SECONDS: '1' },
      claude: { batchProcessingMs: 300 },
    });
    const userId = `batcher-${randomUUID().slice(0, 8)}`;
    const ends = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `batch-events-${userId}`,
      filterPolicy: { type: ['job.ended'] },
    });
    try {
      await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queueUrl,
          MessageBody: JSON.stringify({
            type: 'summarize.document',
            jobId: 'nightly-digest',
            userId,
            text: 'The nightly digest: 14 orders, 2 returns, one late shipment.',
            priority: 'batch',
          }),
        }),
      );

      const { event } = await ends.waitFor<JobEndedEvent>((e) => e.jobId === 'nightly-digest', {
        timeoutMs: 30_000,
      });
      expect(event).toMatchObject({ status: 'succeeded', priority: 'batch' });
      expect(stack.claude.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(0);
      expect(stack.claude.requests.filter((r) => r.path === '/v1/messages/batches')).toHaveLength(
        1,
      );

      const job = await json(await stack.request(userId, 'GET', '/v1/jobs/nightly-digest'));
      const listPrice = new PriceTable().costNanoUsd('claude-sonnet-4-6', job.usage);
      expect(usdToNano(job.costUsd)).toBe(Math.ceil(listPrice / 2));
      const usage = await json(await stack.request(userId, 'GET', '/v1/usage'));
      expect(usdToNano(usage.costUsd)).toBe(usdToNano(job.costUsd));
      const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
      expect(await ledger.listReservations()).toEqual([]);
    } finally {
      await ends.close();
      await stack.close();
    }
  });
});

describe('a batch job whose requests keep failing upstream', () => {
  const tenAttributes = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [
      `producer${i}`,
      { DataType: 'String', StringValue: `value ${i}` },
    ]),
  );

  it.each([
    ['a message of no attributes', {}],
    // No room for the count on its copies: the job keeps it.
    ['a message with all ten attributes SQS allows', tenAttributes],
  ])(
    'is dead-lettered after five failed deliveries across the copies it was put back as, submitting no batch after: %s',
    async (_, attributes) => {
      const stack = await startTestStack({
        worker: true,
        env: { BATCH_POLL_SECONDS: '1', JOB_RETRY_BASE_SECONDS: '1' },
        claude: { batchProcessingMs: 100 },
      });
      const userId = `batch-fails-${randomUUID().slice(0, 8)}`;
      const ends = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
        queueName: `batch-fails-${userId}`,
        filterPolicy: { type: ['job.ended'] },
      });
      try {
        const body = JSON.stringify({
          type: 'summarize.document',
          jobId: 'always-overloaded',
          userId,
          text: `The digest. ${directive('fault=error-before status=529')}`,
          priority: 'batch',
        });
        await stack.sqs.send(
          new SendMessageCommand({
            QueueUrl: stack.queueUrl,
            MessageBody: body,
            ...(Object.keys(attributes).length > 0 && { MessageAttributes: attributes }),
          }),
        );

        const { event } = await ends.waitFor<JobEndedEvent>(
          (e) => e.jobId === 'always-overloaded',
          {
            timeoutMs: 60_000,
          },
        );
        expect(event).toMatchObject({
          status: 'dead_lettered',
          error: { type: 'overloaded_error' },
        });
        const batchesMade = () =>
          stack.claude.requests.filter(
            (r) => r.method === 'POST' && r.path === '/v1/messages/batches',
          ).length;
        const made = batchesMade();
        expect(made).toBeGreaterThan(1);
        expect(made).toBeLessThanOrEqual(5);
        const { Messages = [] } = await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.deadLetterQueueUrl,
            WaitTimeSeconds: 2,
            MessageAttributeNames: ['All'],
          }),
        );
        expect(Messages.map((m) => m.Body)).toEqual([body]);
        expect(Messages[0]?.MessageAttributes?.failedDeliveries).toBeUndefined();
        // Nothing goes on: no copy is left to submit another batch.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        expect(batchesMade()).toBe(made);
        const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
        expect(await ledger.listReservations()).toEqual([]);
      } finally {
        await ends.close();
        await stack.close();
      }
    },
  );
});

describe('a worker that respects its deadline', () => {
  it('leaves no held reservation when its invocation runs out of time, and continues on redelivery', async () => {
    const stack = await startTestStack({
      worker: true,
      workerTimeoutMs: 4_000,
      env: {
        DEADLINE_MARGIN_MS: '1000',
        JOB_RETRY_BASE_SECONDS: '1',
        DOCUMENT_CHUNK_TOKENS: '200',
      },
    });
    const key = randomUUID();
    const section = (name: string, extra = '') =>
      `${name}: ${'facts about the quarter and its numbers. '.repeat(16)}${extra}`;
    const text = [
      section('Alpha'),
      section('Bravo', directive(`fault=stall after=2 times=1 key=${key}`)),
      section('Charlie'),
    ].join('\n\n');
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    try {
      // The month exists before the parts' reservations race for it (see above).
      const primer = await json(
        await stack.request('deadline', 'POST', '/v1/jobs', { type: 'summarize', text: 'Hi.' }),
      );
      Object.assign(
        primer,
        await waitForJob(stack, 'deadline', primer.jobId, { timeoutMs: 60_000 }),
      );
      const { jobId } = await json(
        await stack.request('deadline', 'POST', '/v1/jobs', { type: 'summarize', text }),
      );

      // The first attempt stalls on Bravo until its deadline aborts it.
      const deadlineAt = Date.now() + 4_000;
      await new Promise((resolve) => setTimeout(resolve, deadlineAt - Date.now()));
      expect(await ledger.listReservations()).toEqual([]);
      const job = await waitForJob(stack, 'deadline', jobId, { timeoutMs: 30_000 });

      expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
      const asked = (name: string) =>
        promptsOf(stack).filter((p) => p.includes(`${name}: facts`)).length;
      expect([asked('Alpha'), asked('Bravo'), asked('Charlie')]).toEqual([1, 2, 1]);
      expect(await ledger.listReservations()).toEqual([]);
      const usage = await json(await stack.request('deadline', 'GET', '/v1/usage'));
      expect(usage.costUsd).toBeCloseTo(job.costUsd + primer.costUsd, 12);
    } finally {
      await stack.close();
    }
  });
});

describe('a summary longer than one item stores', () => {
  it('ends as max_tokens within the cap, upstream aborted, billed once for what was streamed, and is delivered', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { SUMMARY_MAX_TOKENS: '128000', JOB_RETRY_BASE_SECONDS: '1', MODEL_MAX_RETRIES: '0' },
    });
    const userId = `verbose-${randomUUID().slice(0, 8)}`;
    const ends = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `long-summary-events-${userId}`,
      filterPolicy: { type: ['job.ended'] },
    });
    try {
      // Some models write 128k tokens: ~900 KB of the local Claude's words, past 400 KB.
      const text = `The board minutes of March. ${directive('tokens=128000 tps=0')}`;
      const created = await stack.request(userId, 'POST', '/v1/jobs', { type: 'summarize', text });
      expect(created.status).toBe(202);
      const { jobId } = await json(created);

      // Before the fix each attempt paid again, until the job was dead-lettered.
      const { event } = await ends.waitFor<JobEndedEvent>((e) => e.jobId === jobId, {
        timeoutMs: 90_000,
      });
      const job = await json(await stack.request(userId, 'GET', `/v1/jobs/${jobId}`));

      expect(event, JSON.stringify(job.error)).toMatchObject({ status: 'succeeded' });
      expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
      const summary: string = job.result.summary;
      expect(utf8Bytes(summary)).toBeLessThanOrEqual(MAX_JOB_ANSWER_BYTES);
      expect(utf8Bytes(summary)).toBeGreaterThan(MAX_JOB_ANSWER_BYTES - 100);
      // Too large to go inline: the event says where to fetch it. Both say it was cut.
      expect(job.result.truncated).toBe(true);
      expect(event.result).toEqual({
        summaryBytes: utf8Bytes(summary),
        fetch: `GET /v1/jobs/${jobId}`,
        truncated: true,
      });

      // One call, its stream closed by us at the cap: generation stopped short of 128k.
      const calls = stack.claude.requests.filter((r) => r.path === '/v1/messages');
      expect(calls).toHaveLength(1);
      expect(calls[0]!.aborted).toBe(true);
      expect(calls[0]!.outputTokensSent).toBeLessThan(128_000);

      // Billed once, for what was streamed (one local token per word, the estimate errs
      // high): neither nothing nor the 128k tokens reserved.
      const words = summary.split(' ').length;
      expect(job.usage.outputTokens).toBeGreaterThanOrEqual(words);
      expect(job.usage.outputTokens).toBeLessThan(128_000);
      const cost = new PriceTable().costNanoUsd('claude-sonnet-4-6', job.usage);
      expect(usdToNano(job.costUsd)).toBe(cost);
      const usage = await json(await stack.request(userId, 'GET', '/v1/usage'));
      expect(usdToNano(usage.costUsd)).toBe(cost);
      const { Items: records = [] } = await stack.documentClient.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `USER#${userId}#REQS#${usage.month}` },
        }),
      );
      expect(records).toEqual([
        expect.objectContaining({ api: 'jobs', stopReason: 'max_tokens', costNanoUsd: cost }),
      ]);
      const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
      expect(await ledger.listReservations()).toEqual([]);
    } finally {
      await ends.close();
      await stack.close();
    }
  }, 120_000);
});

describe('a compaction whose summary is too long for an event', () => {
  it('sends its size only: its job keeps no summary to fetch, its conversation does', async () => {
    const stack = await startTestStack({
      worker: true,
      // Compactions only when asked (below); long summaries allowed.
      env: { SUMMARY_MAX_TOKENS: '128000', COMPACTION_THRESHOLD_TOKENS: '90000' },
    });
    const userId = `compacted-${randomUUID().slice(0, 8)}`;
    const ends = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `compaction-events-${userId}`,
      filterPolicy: { type: ['job.ended'] },
    });
    try {
      // The first question asks the compaction (its prompt holds it) for ~40k words, ~280 KB.
      const conversationId = await conversationOf(
        stack,
        userId,
        [`The plan. ${directive('tokens=40000 tps=0')}`, 'Next?', 'And?'],
        { maxTokens: 20 },
      );
      const jobId = `compaction-${randomUUID().slice(0, 8)}`;
      await requestCompaction(stack, { jobId, userId, conversationId });

      const { event } = await ends.waitFor<JobEndedEvent>((e) => e.jobId === jobId, {
        timeoutMs: 60_000,
      });
      const job = await json(await stack.request(userId, 'GET', `/v1/jobs/${jobId}`));
      const { Item: conversation } = await stack.documentClient.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
        }),
      );

      expect(event.status).toBe('succeeded');
      expect(job).toMatchObject({ status: 'succeeded' });
      expect(job.result).toBeUndefined();
      const summaryBytes = utf8Bytes(conversation!.summary);
      expect(summaryBytes).toBeGreaterThan(200_000);
      // Before the fix it said to fetch the summary from GET /v1/jobs/{id}, which has none.
      expect(event.result).toEqual({ summaryBytes });
    } finally {
      await ends.close();
      await stack.close();
    }
  }, 120_000);
});
