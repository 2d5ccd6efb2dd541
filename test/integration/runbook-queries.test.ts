import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths.js';
import { createApiKey } from './support/api-keys.js';
import { captureOutput } from './support/captured-output.js';
import { waitForJob } from './support/jobs.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const runbook = readFileSync(join(PROJECT_ROOT, 'docs/runbook.md'), 'utf8');

/** The runbook's Logs Insights query whose `filter` line contains `filter`. */
function queryFiltering(filter: string): string {
  const query = [...runbook.matchAll(/```\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((block) => block.includes(filter));
  if (!query) throw new Error(`no query in the runbook filters on ${filter}`);
  return query;
}

/** The fields a query's `fields` command reads, Logs Insights' own (`@…`) left out. */
const fieldsOf = (query: string) =>
  (/^\s*fields\s+([\s\S]*?)\n\s*\|/.exec(query)?.[1] ?? '')
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field && !field.startsWith('@'));

/** A dotted field of a JSON log line, as Logs Insights flattens it. */
const fieldOf = (line: Record<string, unknown>, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      line,
    );

/** Far more input than any estimate from the prompt's bytes: the call costs more than it held. */
const OVERRUN = '[[local-claude: input-tokens=2000000]]';

describe("the runbook's queries, on the lines the functions write", () => {
  let stack: TestStack;
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    stack = await startTestStack({ worker: true });
  });
  afterAll(async () => {
    await stack?.close();
    process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  });

  it('BudgetOverrun: every field the query reads is on the overrun line of a chat turn, a /v1/messages call and a job', async () => {
    // One principal per call: the rate window counts each call's input in full.
    const keys = Object.fromEntries(
      await Promise.all(
        ['chat', 'messages', 'job'].map(async (use) => [
          use,
          await createApiKey(stack, { principal: `overrunning-${use}`, monthlyBudgetUsd: 1000 }),
        ]),
      ),
    ) as Record<'chat' | 'messages' | 'job', { id: string; key: string }>;
    const withKey = (use: keyof typeof keys, path: string, body: unknown) =>
      fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': keys[use].key, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const output = captureOutput([process.stdout, process.stderr]);
    let jobId: string;
    try {
      const turn = await collectSse(
        await withKey('chat', '/v1/chat', { message: `Hi ${OVERRUN}` }),
      );
      expect(turn.at(-1)?.event).toBe('done');
      const call = await withKey('messages', '/v1/messages', {
        model: 'claude-sonnet-4-6',
        max_tokens: 50,
        messages: [{ role: 'user', content: `Hi ${OVERRUN}` }],
      });
      expect(call.status).toBe(200);
      await call.text();
      const submitted = await withKey('job', '/v1/jobs', {
        type: 'summarize',
        text: `A memo that reads much longer than it is. ${OVERRUN}`,
      });
      expect(submitted.status).toBe(202);
      jobId = (await json(submitted)).jobId;
      await waitForJob(stack, 'overrunning-job', jobId, { statuses: ['succeeded'] });
    } finally {
      output.restore();
    }

    const query = queryFiltering('cost more than its reservation');
    const matched = /message like \/([^/]+)\//.exec(query)?.[1];
    const lines = output
      .records()
      .filter(
        (line) => typeof line.message === 'string' && new RegExp(matched!).test(line.message),
      );
    expect(lines.map((line) => line.service)).toEqual(
      expect.arrayContaining(['chat', 'chat', 'worker']),
    );
    expect(lines).toHaveLength(3);
    const fields = fieldsOf(query);
    expect(fields).toEqual(expect.arrayContaining(['userId', 'apiKeyId', 'reservationId']));
    for (const line of lines) {
      const missing = fields.filter((field) => fieldOf(line, field) === undefined);
      // A chat call is found by its request id; a job (a worker invocation runs up to 5) by its id.
      const expectedMissing = line.service === 'worker' ? [] : ['jobId'];
      expect({ message: line.message, missing }).toEqual({
        message: line.message,
        missing: expectedMissing,
      });
    }
    for (const use of ['chat', 'messages', 'job'] as const) {
      expect(lines).toContainEqual(
        expect.objectContaining({ userId: `overrunning-${use}`, apiKeyId: keys[use].id }),
      );
    }
    expect(lines.find((line) => line.service === 'worker')).toMatchObject({ jobId: jobId! });
  });

  /** The stats-by fields of a query (`stats count() by a, b`), `coalesce(x, y) as z` as [x, y]. */
  const statsFieldsOf = (query: string) =>
    (/stats count\(\) by ([\s\S]*)$/.exec(query)?.[1] ?? '')
      .replace(/coalesce\(([^)]*)\)\s+as\s+\w+/g, (_, inner: string) => inner.replace(/,/g, '|'))
      .split(',')
      .map((field) =>
        field
          .trim()
          .split('|')
          .map((part) => part.trim()),
      )
      .filter((alternatives) => alternatives[0]);

  it('ErrorRate: the failed calls are found, by failure type and model, and the calls that could not start by status, type and route', async () => {
    const output = captureOutput([process.stdout, process.stderr]);
    try {
      const broke = await collectSse(
        await stack.chat('broken-off', {
          message: 'go [[local-claude: fault=error-mid after=2 type=overloaded_error]]',
        }),
      );
      expect(broke.at(-1)?.event).toBe('error');
      const refused = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await stack.token('not-started')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-6',
          max_tokens: 50,
          messages: [
            { role: 'user', content: 'hi [[local-claude: fault=error-before status=529]]' },
          ],
        }),
      });
      expect(refused.status).toBeGreaterThanOrEqual(500);
      await refused.text();
      const shed = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await stack.token('shed-at-start')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-6',
          max_tokens: 50,
          stream: true,
          messages: [{ role: 'user', content: 'hi [[local-claude: fault=error-first]]' }],
        }),
      });
      expect(await shed.text()).toMatch(/^event: error\n/);
    } finally {
      output.restore();
    }
    const records = output.records();

    const brokeOff = queryFiltering('ispresent(failure.type)');
    const ended = records.filter(
      (line) => line.message === 'turn ended' && fieldOf(line, 'failure.type') !== undefined,
    );
    expect(ended).toHaveLength(1);
    expect(statsFieldsOf(brokeOff).flat()).toEqual(['failure.type', 'model']);
    for (const [field] of statsFieldsOf(brokeOff)) {
      expect({ field, value: fieldOf(ended[0]!, field!) }).toEqual({
        field,
        value: expect.anything(),
      });
    }

    const notStarted = queryFiltering('"upstream error passed on"');
    const notStartedLines = records.filter((line) =>
      ['request failed', 'upstream error passed on'].includes(line.message as string),
    );
    const shedLine = notStartedLines.find((line) => line.userId === 'shed-at-start');
    expect(shedLine).toMatchObject({ statusCode: 200, errorType: 'overloaded_error' });
    expect(statsFieldsOf(notStarted)).toContainEqual(['errorType', 'error.type']);
    for (const failed of [notStartedLines[0], shedLine]) {
      expect(failed).toBeDefined();
      for (const alternatives of statsFieldsOf(notStarted).filter(
        ([field]) =>
          // Present on the failures they describe: the deployment's own key refused, a chat turn's kind.
          !['error.name', 'error.refusedDeploymentStatus', 'error.kind'].includes(field!),
      )) {
        const value = alternatives
          .map((field) => fieldOf(failed!, field))
          .find((v) => v !== undefined);
        expect({ alternatives, value }).toEqual({ alternatives, value: expect.anything() });
      }
    }
  });

  it("DeadLetters: a job's failed attempt carries every field the query reads", async () => {
    const output = captureOutput([process.stdout, process.stderr]);
    let jobId: string;
    try {
      const submitted = await stack.request('dead-lettered-owner', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: 'A memo the model refuses. [[local-claude: fault=error-before status=400]]',
      });
      expect(submitted.status).toBe(202);
      jobId = (await json(submitted)).jobId;
      await waitForJob(stack, 'dead-lettered-owner', jobId, {
        statuses: ['failed', 'dead_lettered'],
      });
    } finally {
      output.restore();
    }
    const query = queryFiltering('"job attempt failed"');
    const [attempt] = output.records().filter((line) => line.message === 'job attempt failed');
    expect(attempt).toMatchObject({ jobId: jobId!, userId: 'dead-lettered-owner' });
    // Each of the others is on the lines it is named for (`reason`: an invalid message; `messageId`: a message failed on).
    const missing = fieldsOf(query).filter(
      (field) => !['reason', 'messageId'].includes(field) && fieldOf(attempt!, field) === undefined,
    );
    expect(missing).toEqual([]);
  });
});
