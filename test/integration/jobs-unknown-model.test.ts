import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import type { JobEndedEvent } from '../../shared/events/producer-events.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Neither allowed nor priced here: a typo, or a model released since this version. */
const NO_SUCH_MODEL = 'claude-nope-9';
/** Priced here, not allowed by this deployment. */
const NOT_ALLOWED = 'claude-opus-4-5';
const DOES_NOT_EXIST = `model "${NO_SUCH_MODEL}" does not exist here; use one of: claude-sonnet-4-6`;

/**
 * The jobs API and a producer's SQS message refuse a model there is not as the chat APIs do
 * (chat-unknown-model.test.ts): by the one rule, naming it as one that does not exist here,
 * not as one "not allowed".
 */
describe('a model there is not, named for a job', () => {
  let stack: TestStack;
  let events: TopicSubscriber;
  const producer = `producer-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true });
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `unknown-model-events-${randomUUID().slice(0, 8)}`,
      filterPolicy: { userId: [producer] },
    });
  });
  afterAll(async () => {
    await events?.close();
    await stack?.close();
  });

  const upstreamCalls = (marker: string) =>
    stack.claude.requests.filter((request) =>
      JSON.stringify(request.body ?? null).includes(marker),
    );
  const send = (body: unknown) =>
    stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: JSON.stringify(body) }),
    );
  const deadLetterOf = async (marker: string) => {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages.find((message) => message.Body?.includes(marker));
  };

  it('answers POST /v1/jobs 404 not_found_error naming it, recording, queueing and holding nothing; a model there is but not allowed stays a 400', async () => {
    const text = `A memo for no model ${randomUUID()}.`;

    const refused = await stack.request('typist', 'POST', '/v1/jobs', {
      type: 'summarize',
      text,
      model: NO_SUCH_MODEL,
    });

    expect(refused.status).toBe(404);
    expect((await json(refused)).error).toEqual({
      type: 'not_found_error',
      message: DOES_NOT_EXIST,
    });
    expect((await json(await stack.request('typist', 'GET', '/v1/jobs'))).jobs).toEqual([]);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    expect(await ledger.userMonth('typist', monthOf(Date.now()))).toMatchObject({
      spentNanoUsd: 0,
      heldNanoUsd: 0,
    });
    const notAllowed = await stack.request('typist', 'POST', '/v1/jobs', {
      type: 'summarize',
      text,
      model: NOT_ALLOWED,
    });
    expect(notAllowed.status).toBe(400);
    expect((await json(notAllowed)).error).toEqual({
      type: 'invalid_request_error',
      message: `model "${NOT_ALLOWED}" is not allowed; use one of: claude-sonnet-4-6`,
    });
    expect(upstreamCalls(text)).toEqual([]);
  });

  it.each([
    ['there is not', NO_SUCH_MODEL, { type: 'not_found_error', message: DOES_NOT_EXIST }],
    [
      'there is that is not allowed',
      NOT_ALLOWED,
      {
        type: 'invalid_request_error',
        message: `model "${NOT_ALLOWED}" is not allowed; use one of: claude-sonnet-4-6`,
      },
    ],
  ])(
    "dead-letters a producer's message naming a model %s, telling it on SNS why, no model called",
    async (_, model, error) => {
      const jobId = `no-model-${randomUUID().slice(0, 8)}`;
      const text = `A memo for ${model} ${jobId}.`;

      await send({ type: 'summarize.document', jobId, userId: producer, text, model });

      const { event, attributes } = await events.waitFor<JobEndedEvent>(
        (e) => e.type === 'job.ended' && e.jobId === jobId,
        { timeoutMs: 45_000 },
      );
      expect(attributes).toMatchObject({ type: 'job.ended', status: 'dead_lettered' });
      expect(event).toMatchObject({ status: 'dead_lettered', error });
      const job = await json(await stack.request(producer, 'GET', `/v1/jobs/${jobId}`));
      expect(job).toMatchObject({ status: 'dead_lettered', error });
      let letter: Awaited<ReturnType<typeof deadLetterOf>>;
      await expect
        .poll(
          async () => {
            letter ??= await deadLetterOf(jobId);
            return letter;
          },
          { timeout: 10_000 },
        )
        .toBeDefined();
      expect(letter?.MessageAttributes?.failureReason?.StringValue).toBe(
        `${error.type}: ${error.message}`,
      );
      expect(upstreamCalls(text)).toEqual([]);
    },
  );
});
