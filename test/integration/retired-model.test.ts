import { Chat } from '@ai-sdk/react';
import Anthropic from '@anthropic-ai/sdk';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type APICallError, DefaultChatTransport, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS } from '../../local-stack/local-claude/models.js';
import { subscribeQueue, type TopicSubscriber } from '../../local-stack/sns/topics.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import type { JobEndedEvent } from '../../shared/events/producer-events.js';
import { waitForJob } from './support/jobs.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Allowed here, retired upstream: the local Claude answers it 404 `not_found_error`, as the API does. */
const RETIRED = 'claude-sonnet-4-5';
const CURRENT = 'claude-sonnet-4-6';
const claude = { models: DEFAULT_MODELS.filter((model) => !model.startsWith(RETIRED)) };
const month = () => monthOf(Date.now());

/**
 * A model the deployment allows (or has as its default) that the Anthropic API has retired:
 * on every surface it is refused once, told as what it is, never retried as an outage, and
 * bills nothing; the chat keeps the question.
 */
describe('a model retired upstream', () => {
  let stack: TestStack;
  let retiredDefault: TestStack;
  let events: TopicSubscriber;

  beforeAll(async () => {
    const env = { JOB_RETRY_BASE_SECONDS: '1', ALLOWED_MODELS: RETIRED };
    [stack, retiredDefault] = await Promise.all([
      startTestStack({ worker: true, claude, env }),
      startTestStack({
        worker: true,
        claude,
        env: { ...env, DEFAULT_MODEL: RETIRED, ALLOWED_MODELS: CURRENT },
      }),
    ]);
    events = await subscribeQueue({ sns: stack.sns, sqs: stack.sqs }, stack.eventsTopicArn, {
      queueName: `retired-model-events-${Date.now()}`,
    });
  });
  afterAll(async () => {
    await events?.close();
    await Promise.all([stack?.close(), retiredDefault?.close()]);
  });

  const upstreamCalls = (on: TestStack, marker: string) =>
    on.claude.requests.filter((request) => JSON.stringify(request.body ?? null).includes(marker));
  const nothingSpentBy = async (on: TestStack, userId: string) => {
    const ledger = new DynamoUsageLedger(on.documentClient, on.tableName, 1000);
    expect(await ledger.userMonth(userId, month())).toMatchObject({
      spentNanoUsd: 0,
      heldNanoUsd: 0,
    });
  };
  const deadLetters = async (on: TestStack) => {
    const { Messages = [] } = await on.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: on.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages;
  };

  it("fails a producer's job that names it at once, telling the producer on SNS that the model is not available; nothing dead-lettered or billed", async () => {
    const jobId = `retired-${Date.now()}`;
    const text = `A memo for a retired model ${jobId}.`;
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: JSON.stringify({
          type: 'summarize.document',
          jobId,
          userId: 'producer',
          text,
          model: RETIRED,
        }),
      }),
    );

    const { event, attributes } = await events.waitFor<JobEndedEvent>(
      (e) => e.type === 'job.ended' && e.jobId === jobId,
      { timeoutMs: 45_000 },
    );
    expect(attributes.status).toBe('failed');
    expect(event.error).toEqual({
      type: 'not_found_error',
      message: `the model "${RETIRED}" is not available: the Anthropic API does not know it (retired, or never one); ask with another model`,
    });
    expect(event.costUsd ?? 0).toBe(0);
    expect(upstreamCalls(stack, text)).toHaveLength(1);
    const job = await waitForJob(stack, 'producer', jobId);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: event.error });
    expect((await deadLetters(stack)).filter((m) => m.Body?.includes(jobId))).toEqual([]);
    await nothingSpentBy(stack, 'producer');
  });

  it('fails a POST /v1/jobs job that names it at once, as GET /v1/jobs/{id} then says', async () => {
    const text = `A retired model, through the API ${Date.now()}.`;
    const response = await stack.request('api-user', 'POST', '/v1/jobs', {
      type: 'summarize',
      text,
      model: RETIRED,
    });
    expect(response.status).toBe(202);
    const { jobId } = await json(response);

    const job = await waitForJob(stack, 'api-user', jobId);

    expect(job).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { type: 'not_found_error', message: expect.stringContaining(`"${RETIRED}"`) },
    });
    expect(upstreamCalls(stack, text)).toHaveLength(1);
    await nothingSpentBy(stack, 'api-user');
  });

  it('fails so a batch job that names it, once its batch has ended: nothing held or billed', async () => {
    const text = `A retired model, in a batch ${Date.now()}.`;
    const { jobId } = await json(
      await stack.request('batcher', 'POST', '/v1/jobs', {
        type: 'summarize',
        text,
        model: RETIRED,
        priority: 'batch',
      }),
    );

    const job = await waitForJob(stack, 'batcher', jobId);

    expect(job).toMatchObject({
      status: 'failed',
      error: { type: 'not_found_error', message: expect.stringContaining(`"${RETIRED}"`) },
    });
    await nothingSpentBy(stack, 'batcher');
  });

  it("dead-letters at once a job the deployment's retired default model cannot run: the operator's to fix (DeadLetters pages)", async () => {
    const text = `A memo for the default model ${Date.now()}.`;
    const { jobId } = await json(
      await retiredDefault.request('writer', 'POST', '/v1/jobs', { type: 'summarize', text }),
    );

    const job = await waitForJob(retiredDefault, 'writer', jobId);

    const said = `the deployment's default model "${RETIRED}" is not available: the Anthropic API does not know it (retired, or never one); an operator must change defaultModel, then redrive the job`;
    expect(job).toMatchObject({
      status: 'dead_lettered',
      attempts: 1,
      error: { type: 'not_found_error', message: said },
    });
    expect(upstreamCalls(retiredDefault, text)).toHaveLength(1);
    let letter: Awaited<ReturnType<typeof deadLetters>>[number] | undefined;
    await expect
      .poll(
        async () => {
          letter ??= (await deadLetters(retiredDefault)).find((m) => m.Body?.includes(text));
          return letter;
        },
        { timeout: 10_000 },
      )
      .toBeDefined();
    expect(letter?.MessageAttributes?.failureReason?.StringValue).toBe(`not_found_error: ${said}`);
    await nothingSpentBy(retiredDefault, 'writer');
  });

  it('answers /v1/chat 502 not_found_error naming the model, once, not a 503 to retry; the question is kept and answered with another model', async () => {
    const question = `Which planet is largest? ${Date.now()}`;
    const refused = await stack.chat('chatter', { message: question, model: RETIRED });

    expect(refused.status).toBe(502);
    expect(refused.headers.get('retry-after')).toBeNull();
    const body = await json(refused);
    expect(body.error).toEqual({
      type: 'not_found_error',
      message: `the model "${RETIRED}" is not available: the Anthropic API does not know it (retired, or never one); ask with another model`,
    });
    expect(upstreamCalls(stack, question)).toHaveLength(1);
    await nothingSpentBy(stack, 'chatter');
    const stored = await json(
      await stack.request('chatter', 'GET', `/v1/conversations/${body.conversationId}`),
    );
    expect(stored.messages.map((m: { role: string; content: string }) => m.content)).toEqual([
      question,
      '',
    ]);

    const answered = await stack.chat('chatter', {
      conversationId: body.conversationId,
      message: 'And the smallest?',
      model: CURRENT,
    });
    expect(answered.status).toBe(200);
    await answered.text();
    const asked = upstreamCalls(stack, question).at(-1)?.body as { model: string };
    expect(asked.model).toBe(CURRENT);
  });

  it("answers useChat's question 502 when the deployment's default model is retired; regenerated with another model, the same question is answered", async () => {
    const token = await retiredDefault.token('ui-user');
    const chat = new Chat<UIMessage>({
      transport: new DefaultChatTransport({
        api: `${retiredDefault.url}/v1/ui/chat`,
        headers: { authorization: `Bearer ${token}` },
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
          body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
        }),
      }),
    });
    const question = `Name a red fruit ${Date.now()}`;

    await chat.sendMessage({ text: question });

    expect(chat.status).toBe('error');
    expect((chat.error as APICallError).statusCode).toBe(502);
    expect(JSON.parse(chat.error!.message).error).toMatchObject({
      type: 'not_found_error',
      message: expect.stringContaining(`"${RETIRED}"`),
    });
    expect(upstreamCalls(retiredDefault, question)).toHaveLength(1);

    await chat.regenerate({ body: { model: CURRENT } });

    expect(chat.error).toBeUndefined();
    const asked = retiredDefault.claude.requests.at(-1)?.body as {
      model: string;
      messages: Array<{ content: Array<{ text: string }> }>;
    };
    expect(asked.model).toBe(CURRENT);
    expect(asked.messages.at(-1)?.content[0]?.text).toBe(question);
  });

  it("passes /v1/messages the API's 404 on: the official SDK's NotFoundError, sent once (its retries on), nothing billed", async () => {
    const question = `Retired, through the SDK ${Date.now()}`;
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('sdk-user') });

    for (const stream of [false, true]) {
      const error = await client.messages
        .create({
          model: RETIRED,
          max_tokens: 20,
          stream,
          messages: [{ role: 'user', content: `${question} ${stream}` }],
        })
        .then(
          () => undefined,
          (failure: unknown) => failure,
        );
      expect(error, String(stream)).toBeInstanceOf(Anthropic.NotFoundError);
      expect(error).toMatchObject({ status: 404, type: 'not_found_error' });
      expect(upstreamCalls(stack, `${question} ${stream}`)).toHaveLength(1);
    }
    await nothingSpentBy(stack, 'sdk-user');
  });
});
