import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveDeadLetters } from '../../local-stack/redrive-dead-letters.js';
import { jobIdOf } from '../../shared/jobs/job-id.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import { apiRequests, bodyText, requestsMentioning } from './support/claude-requests.js';
import { conversationOf, requestCompaction } from './support/compactions.js';
import { waitForJob } from './support/jobs.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

async function deadLetters(stack: TestStack) {
  const { Messages = [] } = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.deadLetterQueueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

describe('summarization jobs', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: { JOB_RETRY_BASE_SECONDS: '1', DOCUMENT_CHUNK_TOKENS: '200', MODEL_MAX_RETRIES: '0' },
    });
  });
  afterAll(() => stack.close());

  it('summarizes a document end to end and meters it', async () => {
    const created = await stack.request('writer', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A short memo about Q3.',
    });
    expect(created.status).toBe(202);
    const { jobId, status } = await json(created);
    expect(status).toBe('queued');

    const job = await waitForJob(stack, 'writer', jobId, { statuses: ['succeeded', 'failed'] });
    expect(job).toMatchObject({ status: 'succeeded', result: { summary: expect.any(String) } });
    expect(job.result.summary.length).toBeGreaterThan(0);
    expect(job.result.truncated).toBeUndefined();
    expect(job.costUsd).toBeGreaterThan(0);
    expect(job.usage.outputTokens).toBeGreaterThan(0);
    const usage = await json(await stack.request('writer', 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeCloseTo(job.costUsd, 12);
    // The operators' report counts the job's model calls beside chat and /v1/messages.
    const report = await json(
      await fetch(`${stack.url}/v1/admin/usage`, {
        headers: { authorization: `Bearer ${await stack.token('operator', { admin: true })}` },
      }),
    );
    expect(report.byPrincipal).toContainEqual(
      expect.objectContaining({ name: 'writer', requests: 1, costUsd: job.costUsd }),
    );

    expect((await stack.request('stranger', 'GET', `/v1/jobs/${jobId}`)).status).toBe(404);
  });

  it('says a summary cut at summaryMaxTokens was truncated', async () => {
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `A memo asking for a long summary. ${directive('tokens=2000 tps=0')}`,
      }),
    );

    const job = await waitForJob(stack, 'writer', jobId, { statuses: ['succeeded', 'failed'] });

    expect(job.status).toBe('succeeded');
    expect(job.result.truncated).toBe(true);
  });

  it('says a summary Claude ended at its context window (model_context_window_exceeded) was truncated', async () => {
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `A memo near the context window. ${directive('stop-reason=model_context_window_exceeded')}`,
      }),
    );

    const job = await waitForJob(stack, 'writer', jobId, { statuses: ['succeeded', 'failed'] });

    expect(job.status).toBe('succeeded');
    expect(job.result.truncated).toBe(true);
  });

  it('splits a long document, summarizes the parts and combines them', async () => {
    const text = Array.from(
      { length: 12 },
      (_, i) => `Section ${i}. ${'Detail of the section. '.repeat(20)}`,
    ).join('\n\n');
    const before = stack.claude.requests.length;
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', { type: 'summarize', text }),
    );
    const job = await waitForJob(stack, 'writer', jobId, { statuses: ['succeeded', 'failed'] });
    expect(job.status).toBe('succeeded');
    const calls = stack.claude.requests.slice(before).map(bodyText);
    expect(calls.filter((c) => c.includes('of a longer document')).length).toBeGreaterThan(1);
    expect(calls.some((c) => c.includes('into one summary'))).toBe(true);
  });

  it('posting the same document twice is one job', async () => {
    const body = { type: 'summarize', text: 'The same document, twice.' };
    const first = await json(await stack.request('writer', 'POST', '/v1/jobs', body));
    const second = await json(await stack.request('writer', 'POST', '/v1/jobs', body));
    expect(second.jobId).toBe(first.jobId);
  });

  it('answers 413 for a document that fits as text but not once JSON-escaped, and records no job', async () => {
    const text = '\u0001'.repeat(199_000);
    const response = await stack.request('escaper', 'POST', '/v1/jobs', {
      type: 'summarize',
      text,
    });
    expect(response.status).toBe(413);
    expect((await json(response)).error.type).toBe('request_too_large');
    const jobId = jobIdOf({ type: 'summarize.document', userId: 'escaper', text });
    expect((await stack.request('escaper', 'GET', `/v1/jobs/${jobId}`)).status).toBe(404);
  });

  it('summarizes a document of emoji, text beyond the BMP and the noncharacters SQS refuses', async () => {
    const queued = await stack.request('emoji', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: '😀 漢字 👩‍👩‍👧 é̀ \uFFFE \uFFFF '.repeat(500),
      instructions: 'Keep \uFFFF as it is.',
    });
    expect(queued.status).toBe(202);
    const { jobId } = await json(queued);
    const job = await waitForJob(stack, 'emoji', jobId, { statuses: ['succeeded', 'failed'] });
    expect(job.status).toBe('succeeded');
  });

  it('summarizes a document with half an emoji (a lone surrogate), which the API refuses, as U+FFFD', async () => {
    const queued = await stack.request('halves', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: `A document cut inside an emoji: ${'😀'.slice(0, 1)}`,
      instructions: `Mind the ${'😀'.slice(1)}.`,
    });
    const { jobId } = await json(queued);

    const job = await waitForJob(stack, 'halves', jobId, {
      statuses: ['succeeded', 'failed', 'dead_lettered'],
    });

    expect(job.status).toBe('succeeded');
    const sent = JSON.stringify(stack.claude.requests.at(-1)!.body);
    expect(sent).toContain('cut inside an emoji: \uFFFD');
  });

  it("runs two users' jobs of one producer id apart: each summarizes its own document, neither sees the other's", async () => {
    const jobId = `invoice-${Date.now()}`;
    const texts = { alice: 'Alice owes nothing.', bob: 'Bob owes a million.' };
    for (const [user, text] of Object.entries(texts)) {
      const created = await stack.request(user, 'POST', '/v1/jobs', {
        type: 'summarize',
        text,
        jobId,
      });
      expect(created.status, user).toBe(202);
    }
    const alice = await waitForJob(stack, 'alice', jobId, { statuses: ['succeeded', 'failed'] });
    const bob = await waitForJob(stack, 'bob', jobId, { statuses: ['succeeded', 'failed'] });
    expect([alice.status, bob.status]).toEqual(['succeeded', 'succeeded']);
    const summarized = (text: string) => requestsMentioning(stack.claude, text).length;
    expect(summarized(texts.alice)).toBe(1);
    expect(summarized(texts.bob)).toBe(1);
    expect(alice.costUsd).toBeGreaterThan(0);
    expect(bob.costUsd).toBeGreaterThan(0);
    const listed = await json(await stack.request('carol', 'GET', '/v1/jobs'));
    expect(listed.jobs).toEqual([]);
    expect((await stack.request('carol', 'GET', `/v1/jobs/${jobId}`)).status).toBe(404);
    expect((await stack.request('carol', 'POST', `/v1/jobs/${jobId}/cancel`)).status).toBe(404);
  });

  it('processes a message delivered twice once', async () => {
    const message = {
      type: 'summarize.document',
      userId: 'producer',
      text: `Delivered twice ${Date.now()}`,
    } as const;
    const jobId = jobIdOf(message);
    const before = stack.claude.requests.length;
    await Promise.all(
      [1, 2].map(() =>
        stack.sqs.send(
          new SendMessageCommand({
            QueueUrl: stack.queueUrl,
            MessageBody: JSON.stringify(message),
          }),
        ),
      ),
    );
    const job = await waitForJob(stack, 'producer', jobId, { statuses: ['succeeded', 'failed'] });
    expect(job.status).toBe('succeeded');
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // let the duplicate be consumed too
    const calls = stack.claude.requests
      .slice(before)
      .filter((r) => bodyText(r).includes(message.text));
    expect(calls).toHaveLength(1);
  });

  it('retries a throttled model later and then succeeds', async () => {
    const text = `Throttled once ${directive(`fault=error-before status=429 times=1 key=t-${Date.now()}`)}`;
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', { type: 'summarize', text }),
    );
    const job = await waitForJob(stack, 'writer', jobId, { statuses: ['succeeded', 'failed'] });
    expect(job.status).toBe('succeeded');
    const attempts = stack.claude.requests.filter(
      (r) => bodyText(r).includes(jobId) || bodyText(r).includes('Throttled once'),
    );
    expect(attempts.length).toBe(2);
  });

  it('runs again a summary whose stream broke mid-answer (an overload event, a dropped connection, an overload before message_start), each attempt billed for what it streamed', async () => {
    for (const fault of [
      'fault=error-mid after=3 type=overloaded_error',
      'fault=drop after=2',
      'fault=error-first',
    ]) {
      const user = `breaker-${fault.split(/[= ]/)[1]}`;
      const key = `${user}-${Date.now()}`;
      const { jobId } = await json(
        await stack.request(user, 'POST', '/v1/jobs', {
          type: 'summarize',
          text: `A memo ${directive(`${fault} times=1 key=${key}`)}`,
        }),
      );
      const job = await waitForJob(stack, user, jobId);
      expect(job, fault).toMatchObject({ status: 'succeeded', attempts: 2 });
      const calls = requestsMentioning(stack.claude, key);
      expect(calls, fault).toHaveLength(2);
      // The broken call's input and what it streamed, then the whole answer: once each.
      const spent = await json(await stack.request(user, 'GET', '/v1/usage'));
      const broke = fault !== 'fault=error-first';
      expect(spent, fault).toMatchObject({
        requests: broke ? 2 : 1,
        costUsd: job.costUsd,
        outputTokens: job.usage.outputTokens,
        inputTokens: job.usage.inputTokens,
      });
      expect(job.usage.outputTokens, fault).toBeGreaterThanOrEqual(
        calls.reduce((sum, call) => sum + call.outputTokensSent, 0),
      );
    }
  });

  it("spaces the retries of a rate limit that lasts by the growing back-off, not by Claude's 1 s retry-after, so it outlasts more than a few seconds", async () => {
    const key = `lasting-${Date.now()}`;
    // The local Claude sends `retry-after: 1` with a 429, as the Anthropic API does.
    const { jobId } = await json(
      await stack.request('limited', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `Rate limited a while ${directive(`fault=error-before status=429 times=3 key=${key}`)}`,
      }),
    );
    const job = await waitForJob(stack, 'limited', jobId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 4 });
    const at = stack.claude.requests
      .filter((r) => bodyText(r).includes(key))
      .map((r) => r.receivedAt);
    expect(at).toHaveLength(4);
    const gapsMs = at.slice(1).map((ms, i) => ms - at[i]!);
    // JOB_RETRY_BASE_SECONDS 1: 1, 2 then 4 s (they were 1 s each, the three spent in ~3 s).
    expect(gapsMs[2]).toBeGreaterThanOrEqual(3_500);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(6_500);
  });

  it('shows a job waiting for its retry as queued, with the error, and lets it be cancelled then', async () => {
    const text = `Throttled, then cancelled ${directive(`fault=error-before status=429 retry-after=3 times=1 key=c-${Date.now()}`)}`;
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', { type: 'summarize', text }),
    );
    const waiting = await waitForJob(stack, 'writer', jobId, {
      statuses: ['queued'],
      timeoutMs: 10_000,
      also: (job) => job.attempts === 1,
    });
    expect(waiting.error).toMatchObject({ type: 'rate_limit_error' });

    const cancelled = await stack.request('writer', 'POST', `/v1/jobs/${jobId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ status: 'cancelled', attempts: 1 });

    // The retry comes after the 3 s the model asked for, and is dropped.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await json(await stack.request('writer', 'GET', `/v1/jobs/${jobId}`))).toMatchObject({
      status: 'cancelled',
      attempts: 1,
    });
    const calls = requestsMentioning(stack.claude, 'Throttled, then cancelled');
    expect(calls).toHaveLength(1);
  }, 30_000);

  it('moves a message that can never succeed to the dead-letter queue at once', async () => {
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: JSON.stringify({ type: 'summarize.document', userId: 'x' }),
      }),
    );
    const letters = await waitFor(
      () => deadLetters(stack),
      (found) => found.some((m) => m.Body?.includes('"userId":"x"')),
    );
    const letter = letters.find((m) => m.Body?.includes('"userId":"x"'));
    expect(letter?.MessageAttributes?.failureReason?.StringValue).toMatch(/invalid job message/);
  });

  it('dead-letters a job whose model keeps failing after maxReceiveCount, and runs it again once redriven', async () => {
    const fault = `fault=error-before status=529 times=${JOBS_QUEUE_DEFINITION.maxReceiveCount} key=dl-${Date.now()}`;
    const text = `Overloaded five times ${directive(fault)}`;
    const { jobId } = await json(
      await stack.request('writer', 'POST', '/v1/jobs', { type: 'summarize', text }),
    );
    const job = await waitForJob(stack, 'writer', jobId, {
      statuses: ['dead_lettered', 'failed'],
      timeoutMs: 60_000,
    });
    expect(job).toMatchObject({ status: 'dead_lettered', error: { type: 'overloaded_error' } });
    const letters = await waitFor(
      () => deadLetters(stack),
      (found) => found.some((m) => m.Body?.includes(jobId)),
    );
    const letter = letters.find((m) => m.Body?.includes(jobId));
    expect(letter?.MessageAttributes?.type?.StringValue).toBe('summarize.document');

    // Seen, and back in the dead-letter queue for `npm run redrive` to move.
    await Promise.all(
      letters.map((seen) =>
        stack.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: stack.deadLetterQueueUrl,
            ReceiptHandle: seen.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        ),
      ),
    );
    expect(await redriveDeadLetters(stack.sqs, stack)).toBeGreaterThanOrEqual(1);

    const redriven = await waitForJob(stack, 'writer', jobId, {
      statuses: ['succeeded', 'failed'],
      timeoutMs: 30_000,
    });
    expect(redriven).toMatchObject({
      status: 'succeeded',
      attempts: JOBS_QUEUE_DEFINITION.maxReceiveCount + 1,
    });
    expect(redriven.error).toBeUndefined();
  }, 120_000);

  it('fails a job that does not fit the budget with billing_error, and runs it when asked again with a budget', async () => {
    const poor = await startTestStack({ worker: true, env: { USER_MONTHLY_BUDGET_USD: '0.0001' } });
    try {
      const document = { type: 'summarize', text: 'Too dear.' };
      const { jobId } = await json(await poor.request('poor', 'POST', '/v1/jobs', document));
      const job = await waitForJob(poor, 'poor', jobId, { statuses: ['failed', 'succeeded'] });
      expect(job).toMatchObject({ status: 'failed', error: { type: 'billing_error' } });
      expect(apiRequests(poor.claude)).toHaveLength(0);

      const operator = await poor.token('operator', { admin: true });
      await fetch(`${poor.url}/v1/admin/principals/poor/budget`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ monthlyBudgetUsd: 5 }),
      });
      const again = await poor.request('poor', 'POST', '/v1/jobs', document);
      expect(await json(again)).toEqual({ jobId, status: 'queued' });
      const rerun = await waitForJob(poor, 'poor', jobId, { statuses: ['failed', 'succeeded'] });
      expect(rerun).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(rerun.error).toBeUndefined();
    } finally {
      await poor.close();
    }
  });
});

describe('a document whose parts all at once would not fit the budget', () => {
  it('summarizes its parts as what they hold comes back, in one attempt, when the budget covers the job', async () => {
    // Each part reserves its worst case (about $0.017 here): two fit at once, four do not.
    const stack = await startTestStack({
      worker: true,
      env: {
        DOCUMENT_CHUNK_TOKENS: '100',
        SUMMARY_MAX_TOKENS: '1000',
        SUMMARY_CONCURRENCY: '4',
        USER_MONTHLY_BUDGET_USD: '0.045',
      },
    });
    try {
      const text = Array.from(
        { length: 8 },
        (_, i) => `Section ${i}. ${'Detail words here. '.repeat(18)}`,
      ).join('\n\n');
      const { jobId } = await json(
        await stack.request('nearly-spent', 'POST', '/v1/jobs', { type: 'summarize', text }),
      );
      const job = await waitForJob(stack, 'nearly-spent', jobId, {
        statuses: ['succeeded', 'failed'],
        timeoutMs: 20_000,
      });
      expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
      // The whole job costs a fraction of the budget it was refused for.
      expect(job.costUsd).toBeLessThan(0.045 / 2);
    } finally {
      await stack.close();
    }
  }, 40_000);
});

describe('conversation compaction', () => {
  it('summarizes a long conversation and sends the summary plus recent messages on the next turn', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: '150' },
    });
    try {
      let conversationId: string | undefined;
      for (let i = 0; i < 5; i++) {
        const events = await collectSse(
          await stack.chat('talker', {
            message: `Turn ${i}: ${'some words about the topic '.repeat(8)}`,
            ...(conversationId && { conversationId }),
          }),
        );
        conversationId = String(events[0]!.data.conversationId);
      }
      const conversationKey = { pk: `USER#talker#CONV#${conversationId}`, sk: 'META' };
      await waitFor(
        async () =>
          (
            await stack.documentClient.send(
              new GetCommand({ TableName: stack.tableName, Key: conversationKey }),
            )
          ).Item,
        (item) => typeof item?.summary === 'string',
      );

      await collectSse(await stack.chat('talker', { conversationId, message: 'And now?' }));
      // The last request may already be the worker's next compaction: find the turn's own.
      const sent = stack.claude.requests
        .map(
          (request) =>
            request.body as {
              system?: Array<{ text: string }>;
              messages: Array<{ content: Array<{ text: string }> }>;
            },
        )
        .findLast((body) => body.messages.at(-1)?.content.at(-1)?.text === 'And now?')!;
      expect(
        sent.system?.some((b) => b.text.startsWith('Summary of the earlier conversation')),
      ).toBe(true);
      expect(sent.messages.length).toBeLessThan(11);

      const history = await json(
        await stack.request('talker', 'GET', `/v1/conversations/${conversationId}?limit=100`),
      );
      expect(history.messages).toHaveLength(12);
    } finally {
      await stack.close();
    }
  }, 60_000);
});

describe('a compaction whose conversation is deleted meanwhile', () => {
  it('keeps none of the parts it summarized once it fails for the deletion', async () => {
    const stack = await startTestStack({
      worker: true,
      // Compactions only when asked (below), in parts small enough for a short conversation.
      env: { COMPACTION_THRESHOLD_TOKENS: '90000', DOCUMENT_CHUNK_TOKENS: '100' },
    });
    try {
      const userId = 'forgetter';
      const paragraph = (words: string) => `${words} `.repeat(30).trim();
      const conversationId = await conversationOf(stack, userId, [
        // The part holding the first paragraph is answered slowly: time to delete meanwhile.
        `${directive('ttft=3000')} ${paragraph('slow secret')}\n\n${paragraph('private plans')}`,
        paragraph('second question'),
        paragraph('third question'),
      ]);
      const jobId = 'compaction-of-a-deleted-conversation';
      await requestCompaction(stack, { jobId, userId, conversationId });
      const checkpoints = async () =>
        (
          await stack.documentClient.send(
            new QueryCommand({
              TableName: stack.tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ckpt)',
              ExpressionAttributeValues: { ':pk': `USER#${userId}#JOB#${jobId}`, ':ckpt': 'CKPT#' },
              ConsistentRead: true,
            }),
          )
        ).Items ?? [];
      await waitFor(checkpoints, (items) => items.length > 0);
      const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
      expect(deleted.status).toBe(204);

      const job = await waitForJob(stack, userId, jobId, {
        statuses: ['failed', 'succeeded', 'dead_lettered'],
      });
      expect(job).toMatchObject({ status: 'failed', error: { type: 'not_found_error' } });
      // What the parts said is the conversation's: it goes with it (docs/data-model.md).
      expect(await checkpoints()).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 60_000);
});

describe('a compaction that succeeded, its conversation deleted since', () => {
  it('leaves its summary nowhere in the table, the idempotency records included', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: '90000' },
    });
    try {
      const userId = 'deleter';
      const conversationId = await conversationOf(stack, userId, [
        'First plans.',
        'Second thoughts.',
        'Third idea.',
      ]);
      const jobId = 'compaction-then-deletion';
      await requestCompaction(stack, { jobId, userId, conversationId });
      await waitForJob(stack, userId, jobId, {
        statuses: ['succeeded', 'failed', 'dead_lettered'],
      });
      const { Item: conversation } = await stack.documentClient.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
        }),
      );
      const summary = String(conversation?.summary);
      expect(summary.length).toBeGreaterThan(20);

      const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
      expect(deleted.status).toBe(204);

      // What the conversation said goes with it (docs/data-model.md): no item keeps its summary.
      const { Items: items = [] } = await stack.documentClient.send(
        new ScanCommand({ TableName: stack.tableName, ConsistentRead: true }),
      );
      expect(items.filter((item) => JSON.stringify(item).includes(summary))).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 60_000);
});

async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
