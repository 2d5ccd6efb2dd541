import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from './support/api-keys.js';
import { requestsMentioning } from './support/claude-requests.js';
import { waitForJob } from './support/jobs.js';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A job asked for with an API key is held to the key's own budget, as its requests are. */
describe("an API key's own budget on jobs", () => {
  let stack: TestStack;
  let operator: string;
  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: { JOB_RETRY_BASE_SECONDS: '1' } });
    operator = await stack.token('operator', { admin: true });
  });
  afterAll(() => stack?.close());

  const withKey = (key: string, method: string, path: string, body?: unknown) =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const asOperator = (method: string, path: string) =>
    fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${operator}` } });
  const callsFor = (text: string) => requestsMentioning(stack.claude, text).length;

  it("fails a job its key's budget cannot hold with billing_error, spending nothing", async () => {
    const { id, key } = await createApiKey(stack, {
      principal: 'capped-key-owner',
      monthlyBudgetUsd: 0.000_001,
    });
    const text = 'A document too dear for the key that asks for it.';

    const submitted = await withKey(key, 'POST', '/v1/jobs', { type: 'summarize', text });

    expect(submitted.status).toBe(202);
    const job = await waitForJob(stack, 'capped-key-owner', (await json(submitted)).jobId);
    expect(job).toMatchObject({ status: 'failed', error: { type: 'billing_error' } });
    expect(job.error.message).toMatch(/key/i);
    expect(callsFor(text)).toBe(0);
    const usage = await json(await withKey(key, 'GET', '/v1/usage'));
    expect(usage).toMatchObject({
      costUsd: 0,
      requests: 0,
      apiKey: { id, costUsd: 0, requests: 0 },
    });
  });

  it("counts a job's calls in its key's month and under the key in the usage report", async () => {
    const { id, key } = await createApiKey(stack, {
      principal: 'roomy-key-owner',
      monthlyBudgetUsd: 1,
    });

    const submitted = await withKey(key, 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A memo the key can afford.',
    });

    const job = await waitForJob(stack, 'roomy-key-owner', (await json(submitted)).jobId);
    expect(job.status).toBe('succeeded');
    expect(job.costUsd).toBeGreaterThan(0);
    const usage = await json(await withKey(key, 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeCloseTo(job.costUsd, 12);
    expect(usage.apiKey).toMatchObject({ id, requests: 1, budgetUsd: 1 });
    expect(usage.apiKey.costUsd).toBeCloseTo(job.costUsd, 12);
    expect(usage.apiKey.remainingUsd).toBeCloseTo(1 - job.costUsd, 9);
    const report = await json(await asOperator('GET', '/v1/admin/usage?top=100'));
    expect(report.byKey).toContainEqual(
      expect.objectContaining({ name: id, requests: 1, costUsd: job.costUsd }),
    );
  });

  it('runs a job asked for with a token as before, on its principal alone, as the same job a key would ask for', async () => {
    const { key } = await createApiKey(stack, { principal: 'token-owner' });
    const document = { type: 'summarize', text: 'A memo asked for with a token.' };

    const submitted = await json(await stack.request('token-owner', 'POST', '/v1/jobs', document));
    const job = await waitForJob(stack, 'token-owner', submitted.jobId);
    const again = await json(await withKey(key, 'POST', '/v1/jobs', document));

    expect(job.status).toBe('succeeded');
    expect(again).toEqual({ jobId: submitted.jobId, status: 'succeeded' });
    const usage = await json(await stack.request('token-owner', 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeCloseTo(job.costUsd, 12);
    const report = await json(await asOperator('GET', '/v1/admin/usage?top=100'));
    expect(report.byPrincipal).toContainEqual(
      expect.objectContaining({ name: 'token-owner', requests: 1 }),
    );
    expect(usage.apiKey).toBeUndefined();
    const byKeyOf = await json(await withKey(key, 'GET', '/v1/usage'));
    expect(byKeyOf.apiKey).toMatchObject({ costUsd: 0, requests: 0 });
  });

  it('fails a queued job whose key was revoked since, with a clear error, spending nothing', async () => {
    const { id } = await createApiKey(stack, { principal: 'revoked-key-owner' });
    expect((await asOperator('DELETE', `/v1/admin/keys/${id}`)).status).toBe(200);
    const text = 'Queued with a key revoked before the job ran.';

    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: JSON.stringify({
          type: 'summarize.document',
          jobId: 'revoked-key-job',
          userId: 'revoked-key-owner',
          text,
          apiKeyId: id,
        }),
      }),
    );

    const job = await waitForJob(stack, 'revoked-key-owner', 'revoked-key-job');
    expect(job).toMatchObject({ status: 'failed', error: { type: 'authentication_error' } });
    expect(job.error.message).toContain(`${id}) was revoked`);
    expect(callsFor(text)).toBe(0);
  });
});
