import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelAdapters } from '../../functions/chat/model-adapters.js';
import { untraced } from '../../functions/chat/observability/request-tracer.js';
import { startLocalClaude } from '../../local-stack/local-claude/index.js';
import { anthropicApiKeySource } from '../../shared/adapters/secrets.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { createApiKey } from './support/api-keys.js';
import { captureOutput } from './support/captured-output.js';
import { collectSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

describe('logs', () => {
  let stack: TestStack;
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
    process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  });

  it('are JSON lines with the request id and the user id, and never carry message text', async () => {
    const secretText = 'my-bank-password-is-hunter2';
    const output = captureOutput([process.stdout]);
    try {
      const events = await collectSse(await stack.chat('logged-user', { message: secretText }));
      expect(events.at(-1)?.event).toBe('done');
      expect((await stack.chat('logged-user', { message: '' })).status).toBe(400);
    } finally {
      output.restore();
    }

    const logs = output.records().filter((record) => 'level' in record);
    expect(logs.map((log) => log.message)).toEqual(
      expect.arrayContaining(['turn ended', 'request rejected']),
    );
    for (const log of logs) {
      expect(log.function_request_id).toEqual(expect.any(String));
      expect(log.userId).toBe('logged-user');
    }
    expect(output.text()).not.toContain(secretText);
  });

  it('say that Claude sent an event the SDK could not parse as a JSON line of ours, never the event', async () => {
    const output = captureOutput([process.stdout, process.stderr]);
    try {
      const events = await collectSse(
        await stack.chat('garbled-user', {
          message: 'go [[local-claude: fault=garble after=2]]',
        }),
      );
      expect(events.at(-1)?.event).toBe('error');
    } finally {
      output.restore();
    }
    const said = output.records().filter((record) => 'level' in record);
    expect(said.map((record) => record.message)).toContain('Could not parse message into JSON:');
    expect(output.text()).not.toContain('content_block_delta');
  });

  it('say why a turn failed mid-stream: the failure and its upstream cause', async () => {
    const output = captureOutput([process.stdout]);
    try {
      const events = await collectSse(
        await stack.chat('failing-user', {
          message: 'go [[local-claude: fault=error-mid after=2 type=overloaded_error]]',
        }),
      );
      expect(events.at(-1)?.event).toBe('error');
    } finally {
      output.restore();
    }
    const ended = output.records().filter((record) => record.message === 'turn ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({
      stopReason: 'error',
      failure: { type: 'overloaded_error', error: { name: 'ModelError' } },
    });
    expect(JSON.stringify(ended[0]?.failure)).toContain('overloaded_error');
    expect(JSON.stringify(ended[0]?.failure)).toMatch(/cause/);
  });

  it("log the deployment's own key or account refused upstream as an error naming which, not as the caller's error passed on", async () => {
    // Warnings and errors go to stderr.
    const output = captureOutput([process.stderr]);
    try {
      for (const status of [401, 402]) {
        const response = await fetch(`${stack.url}/v1/messages`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await stack.token('refused-deployment')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            model: 'claude-sonnet-4-6',
            max_tokens: 10,
            messages: [
              { role: 'user', content: `hi [[local-claude: fault=error-before status=${status}]]` },
            ],
          }),
        });
        expect(response.status).toBe(502);
      }
    } finally {
      output.restore();
    }
    const logs = output.records().filter((record) => 'level' in record);
    expect(logs.filter((log) => log.message === 'upstream error passed on')).toEqual([]);
    const failed = logs.filter((log) => log.message === 'request failed');
    expect(failed).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        statusCode: 502,
        error: expect.objectContaining({
          message: expect.stringMatching(/credentials/),
          refusedDeploymentStatus: 401,
        }),
      }),
      expect.objectContaining({
        level: 'ERROR',
        statusCode: 502,
        error: expect.objectContaining({
          message: expect.stringMatching(/bill/),
          refusedDeploymentStatus: 402,
        }),
      }),
    ]);
  });

  it("record a change of an API key's limits: the key, its principal, what changed and the limits now, never its secret", async () => {
    const { id, key } = await createApiKey(stack, { principal: 'audited', monthlyBudgetUsd: 5 });
    const output = captureOutput([process.stdout]);
    try {
      const response = await fetch(`${stack.url}/v1/admin/keys/${id}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ monthlyBudgetUsd: 1, requestsPerMinute: null }),
      });
      expect(response.status).toBe(200);
    } finally {
      output.restore();
    }

    const changed = output
      .records()
      .filter((record) => record.message === 'API key limits changed');
    expect(changed).toEqual([
      expect.objectContaining({
        level: 'INFO',
        userId: 'operator',
        apiKeyId: id,
        principal: 'audited',
        changed: ['monthlyBudgetUsd', 'requestsPerMinute'],
        limits: {
          monthlyBudgetUsd: 1,
          requestsPerMinute: null,
          tokensPerMinute: null,
          allowedModels: null,
        },
      }),
    ]);
    expect(output.text()).not.toContain(key);
  });

  it("never write the deployment's Anthropic key, even when a line break inside its secret makes it no valid header", async () => {
    const key = 'sk-ant-api03-never-in-a-log';
    const claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    // As Secrets Manager holds a key pasted with a note under it.
    const secrets = {
      get: async () => `${key}\n# rotated in November`,
    } as unknown as SecretsProvider;
    const keyed = await startTestStack({
      anthropicBaseUrl: claude.url,
      customizeChat: (adapters) => ({
        ...adapters,
        ...createModelAdapters(
          { anthropicBaseUrl: claude.url, maxRetryWaitMs: 1_000 } as Settings,
          {
            apiKey: anthropicApiKeySource({
              arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:anthropic-AbCdEf',
              provider: () => secrets,
            }),
            fetch,
            tracer: untraced,
            log: adapters.logger,
          },
        ),
      }),
    });
    const output = captureOutput([process.stdout, process.stderr]);
    try {
      const turn = await keyed.chat('keyed-user', { message: 'hello' });
      expect(turn.status).toBeGreaterThanOrEqual(500);
      const call = await fetch(`${keyed.url}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await keyed.token('keyed-user')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-6',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
      expect(call.status).toBeGreaterThanOrEqual(500);
    } finally {
      output.restore();
      await keyed.close();
      await claude.close();
    }
    expect(output.text()).not.toContain(key);
    expect(output.text()).toMatch(/Anthropic API key .*line break/);
  });
});
