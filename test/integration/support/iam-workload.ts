import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { turnHolder } from '../../../shared/turns/recover-turn.js';
import { createApiKey } from './api-keys.js';
import { JOB_ENDS, waitForJob } from './jobs.js';
import { collectSse, json } from './sse.js';
import type { TestStack } from './test-stack.js';

const MODEL = 'claude-sonnet-4-6';
const directive = (text: string) => `[[local-claude: ${text}]]`;

/** Every job of `userId` has ended (compactions the chat function asked for included). */
async function jobsEnded(stack: TestStack, userId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { jobs } = await json(await stack.request(userId, 'GET', '/v1/jobs'));
    const statuses = jobs.map((job: { status: string }) => job.status);
    if (statuses.length > 0 && statuses.every((status: string) => JOB_ENDS.includes(status)))
      return;
    if (Date.now() > deadline) throw new Error(`jobs of ${userId} still ${statuses}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function asAdmin(stack: TestStack, method: string, path: string, body?: unknown) {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/**
 * What a deployment's users, operators and producers do, through every function: chat turns
 * (with a compaction, a regenerate, a resume, a stop and a delete), the Messages API with an
 * API key (count_tokens, streaming, models), the admin API, summarize jobs (standard and
 * batch, one cancelled), a budget threshold the maintenance sweep publishes, and /health.
 * Each step checks it did what it is there for, so a call missing from the recording is not
 * a step that silently failed.
 */
export async function runIamWorkload(stack: TestStack): Promise<void> {
  const user = 'iam-chatter';
  const expectOk = async (response: Response | Promise<Response>, ...statuses: number[]) => {
    const settled = await response;
    expect(statuses.length > 0 ? statuses : [200]).toContain(settled.status);
    return settled;
  };

  expect((await fetch(`${stack.url}/health`)).status).toBe(200);

  let conversationId: string | undefined;
  for (let i = 0; i < 5; i++) {
    const events = await collectSse(
      await expectOk(
        stack.chat(user, {
          message: `Q${i}: ${'words about the topic '.repeat(8)}`,
          ...(conversationId && { conversationId }),
        }),
      ),
    );
    conversationId = String(events[0]!.data.conversationId);
  }
  await jobsEnded(stack, user);
  await expectOk(stack.request(user, 'GET', '/v1/conversations'));
  await expectOk(stack.request(user, 'GET', `/v1/conversations/${conversationId}`));
  await (
    await expectOk(
      stack.request(user, 'GET', `/v1/conversations/${conversationId}/stream`),
      200,
      204,
    )
  ).text();
  await collectSse(
    await expectOk(
      stack.request(user, 'POST', `/v1/conversations/${conversationId}/regenerate`, {}),
    ),
  );
  await (
    await expectOk(
      stack.request(user, 'POST', `/v1/conversations/${conversationId}/stop`, {}),
      200,
      202,
      204,
      409,
    )
  ).text();
  await (
    await expectOk(
      stack.request(user, 'POST', '/v1/ui/chat', {
        id: 'iam-ui-chat',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Hello' }] }],
        trigger: 'submit-message',
      }),
    )
  ).text();
  await expectOk(stack.request(user, 'GET', '/v1/usage'));
  // Two conversations, one a page: the next page's cursor is sealed with the signing key.
  const page = await json(await expectOk(stack.request(user, 'GET', '/v1/conversations?limit=1')));
  expect(page.nextCursor).toEqual(expect.any(String));

  const { id: keyId, key } = await createApiKey(stack, {
    principal: 'iam-key-holder',
    monthlyBudgetUsd: 1,
  });
  const messages = (path: string, body: Record<string, unknown>) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: {
        'x-api-key': key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  const ask = { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };
  await expectOk(messages('/v1/messages', ask));
  await (await expectOk(messages('/v1/messages', { ...ask, stream: true }))).text();
  await expectOk(messages('/v1/messages/count_tokens', { model: MODEL, messages: ask.messages }));
  await expectOk(
    fetch(`${stack.url}/v1/models`, {
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    }),
  );

  await expectOk(asAdmin(stack, 'GET', '/v1/admin/keys'));
  await expectOk(asAdmin(stack, 'GET', `/v1/admin/keys/${keyId}`));
  await expectOk(asAdmin(stack, 'PATCH', `/v1/admin/keys/${keyId}`, { monthlyBudgetUsd: 2 }));
  await expectOk(asAdmin(stack, 'GET', '/v1/admin/usage'));
  await expectOk(asAdmin(stack, 'GET', `/v1/admin/principals/${user}/budget`));

  const jobIds = [];
  for (const priority of ['standard', 'batch']) {
    const queued = await json(
      await expectOk(
        stack.request(user, 'POST', '/v1/jobs', {
          type: 'summarize',
          text: 'The numbers.',
          priority,
        }),
        202,
      ),
    );
    jobIds.push(String(queued.jobId));
  }
  // Throttled once: the worker delays the message's next delivery.
  const throttled = await json(
    await expectOk(
      stack.request(user, 'POST', '/v1/jobs', {
        type: 'summarize',
        text: `Throttled once ${directive(`fault=error-before status=429 times=1 key=iam-${Date.now()}`)}`,
      }),
      202,
    ),
  );
  jobIds.push(String(throttled.jobId));
  for (const jobId of jobIds) {
    expect(await waitForJob(stack, user, jobId)).toMatchObject({ status: 'succeeded' });
  }
  const cancelled = await json(
    await expectOk(
      stack.request(user, 'POST', '/v1/jobs', {
        type: 'summarize',
        text: 'Later.',
        priority: 'batch',
      }),
      202,
    ),
  );
  await expectOk(stack.request(user, 'POST', `/v1/jobs/${cancelled.jobId}/cancel`), 200, 202, 409);
  await waitForJob(stack, user, String(cancelled.jobId));

  // A message that can never succeed: the worker moves it to the dead-letter queue.
  await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queueUrl,
      MessageBody: JSON.stringify({ type: 'summarize.document', userId: 'iam-nobody' }),
    }),
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.deadLetterQueueUrl,
        WaitTimeSeconds: 1,
        MaxNumberOfMessages: 10,
      }),
    );
    if (Messages.some((message) => message.Body?.includes('iam-nobody'))) break;
    if (Date.now() > deadline) throw new Error('the invalid job message was not dead-lettered');
  }

  // 62% of the month's budget spent: the sweep publishes the 50% threshold.
  const { costUsd } = await json(await stack.request(user, 'GET', '/v1/usage'));
  expect(costUsd).toBeGreaterThan(0);
  await expectOk(
    asAdmin(stack, 'PUT', `/v1/admin/principals/${user}/budget`, {
      monthlyBudgetUsd: costUsd / 0.62,
    }),
  );
  // A turn whose function died with its hold, long expired: the sweep checks it and reclaims.
  const nowMs = Date.now();
  await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1_000).reserve({
    userId: user,
    amountNanoUsd: 1_000_000,
    userDefaultBudgetNanoUsd: 1_000_000_000_000,
    globalBudgetNanoUsd: 1_000_000_000_000,
    nowMs: nowMs - 3_600_000,
    expiresAtMs: nowMs - 1_800_000,
    holder: turnHolder(user, randomUUID()),
  });
  expect(await stack.sweep()).toMatchObject({ reclaimed: 1 });

  await expectOk(stack.request(user, 'DELETE', `/v1/conversations/${conversationId}`), 200, 204);
  await expectOk(asAdmin(stack, 'DELETE', `/v1/admin/keys/${keyId}`), 200, 204);
}
