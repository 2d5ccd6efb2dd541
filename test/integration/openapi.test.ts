import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../functions/chat/openapi/document.js';
import { openApiValidator } from '../support/openapi.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * The document the stack serves describes what the stack sends: real responses of each
 * kind are checked against its schemas (`[]`: no mismatch).
 */
describe('GET /openapi.json', () => {
  let stack: TestStack;
  let document: OpenApiDocument;
  let validator: ReturnType<typeof openApiValidator>;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: { MODEL_MAX_RETRIES: '0' } });
    const response = await fetch(`${stack.url}/openapi.json`);
    document = await json(response);
    validator = openApiValidator(document);
  });
  afterAll(() => stack?.close());

  it('is served without a credential: OpenAPI 3.1, for the URL it was fetched from', async () => {
    const response = await fetch(`${stack.url}/openapi.json`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = await json(response);
    expect(served.openapi).toMatch(/^3\.1\.\d+$/);
    expect(served.servers).toEqual([{ url: stack.url }]);
    expect(Object.keys(served.paths)).toEqual(
      expect.arrayContaining(['/v1/chat', '/v1/conversations/{id}', '/health', '/openapi.json']),
    );
  });

  it("describes a chat stream's events, the conversation and the listing", async () => {
    const events = await collectSse(await stack.chat('oa-alice', { message: 'Hello, Claude' }));

    expect(events.map((event) => event.event)).toContain('done');
    for (const { data } of events) expect(validator.event('POST', '/v1/chat', data)).toEqual([]);
    const conversationId = events[0]!.data.conversationId as string;

    const conversation = await stack.request(
      'oa-alice',
      'GET',
      `/v1/conversations/${conversationId}`,
    );
    expect(
      validator.response('GET', '/v1/conversations/{id}', 200, await json(conversation)),
    ).toEqual([]);
    const list = await stack.request('oa-alice', 'GET', '/v1/conversations?limit=1');
    expect(validator.response('GET', '/v1/conversations', 200, await json(list))).toEqual([]);
  });

  it('describes the error event that ends a stream that failed after it started', async () => {
    const events = await collectSse(
      await stack.chat('oa-bob', {
        message: `go ${directive('fault=error-mid after=2 type=overloaded_error')}`,
      }),
    );

    expect(events.at(-1)?.event).toBe('error');
    for (const { data } of events) expect(validator.event('POST', '/v1/chat', data)).toEqual([]);
  });

  it('describes error bodies: 401, 400, 404 and 409', async () => {
    const unauthenticated = await fetch(`${stack.url}/v1/usage`);
    const invalid = await stack.request('oa-carol', 'POST', '/v1/chat', { message: 1 });
    const missing = await stack.request(
      'oa-carol',
      'GET',
      `/v1/conversations/conv_${'0'.repeat(32)}`,
    );
    const idle = await stack.chat('oa-carol', { message: 'hi' });
    const { conversationId } = (await collectSse(idle))[0]!.data as { conversationId: string };
    const conflict = await stack.request(
      'oa-carol',
      'POST',
      `/v1/conversations/${conversationId}/stop`,
    );

    expect([unauthenticated, invalid, missing, conflict].map((r) => r.status)).toEqual([
      401, 400, 404, 409,
    ]);
    expect(validator.response('GET', '/v1/usage', 401, await json(unauthenticated))).toEqual([]);
    expect(validator.response('POST', '/v1/chat', 400, await json(invalid))).toEqual([]);
    expect(validator.response('GET', '/v1/conversations/{id}', 404, await json(missing))).toEqual(
      [],
    );
    expect(
      validator.response('POST', '/v1/conversations/{id}/stop', 409, await json(conflict)),
    ).toEqual([]);
  });

  it('describes /v1/usage, /v1/models and /health', async () => {
    const usage = await stack.request('oa-alice', 'GET', '/v1/usage');
    const models = await stack.request('oa-alice', 'GET', '/v1/models');
    const health = await fetch(`${stack.url}/health`);

    expect(validator.response('GET', '/v1/usage', 200, await json(usage))).toEqual([]);
    expect(validator.response('GET', '/v1/models', 200, await json(models))).toEqual([]);
    expect(validator.response('GET', '/health', health.status, await json(health))).toEqual([]);
  });

  it('describes a job, from its acceptance to its result', async () => {
    const created = await stack.request('oa-dave', 'POST', '/v1/jobs', {
      type: 'summarize',
      text: 'A short memo about the third quarter.',
    });
    const accepted = await json(created);

    expect(validator.response('POST', '/v1/jobs', 202, accepted)).toEqual([]);
    const deadline = Date.now() + 45_000;
    let job: { status?: string } = {};
    while (!['succeeded', 'failed'].includes(job.status ?? '') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      job = await json(await stack.request('oa-dave', 'GET', `/v1/jobs/${accepted.jobId}`));
      expect(validator.response('GET', '/v1/jobs/{id}', 200, job)).toEqual([]);
    }
    expect(job.status).toBe('succeeded');
  });

  it("describes the admin API's keys, budgets and usage report", async () => {
    const admin = { authorization: `Bearer ${await stack.token('oa-operator', { admin: true })}` };
    const call = async (method: string, path: string, body?: unknown) =>
      json(
        await fetch(`${stack.url}${path}`, {
          method,
          headers: { ...admin, 'content-type': 'application/json' },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        }),
      );

    const created = await call('POST', '/v1/admin/keys', {
      principal: 'oa-alice',
      name: 'laptop',
      monthlyBudgetUsd: 5,
      allowedModels: ['claude-sonnet-4-6'],
    });
    expect(validator.response('POST', '/v1/admin/keys', 201, created)).toEqual([]);
    const checks = [
      ['GET', '/v1/admin/keys', await call('GET', '/v1/admin/keys?principal=oa-alice')],
      ['GET', '/v1/admin/keys/{keyId}', await call('GET', `/v1/admin/keys/${created.id}`)],
      [
        'PATCH',
        '/v1/admin/keys/{keyId}',
        await call('PATCH', `/v1/admin/keys/${created.id}`, {
          monthlyBudgetUsd: 2,
          allowedModels: null,
        }),
      ],
      ['DELETE', '/v1/admin/keys/{keyId}', await call('DELETE', `/v1/admin/keys/${created.id}`)],
      [
        'PUT',
        '/v1/admin/principals/{principal}/budget',
        await call('PUT', '/v1/admin/principals/oa-alice/budget', { monthlyBudgetUsd: 25 }),
      ],
      [
        'GET',
        '/v1/admin/principals/{principal}/budget',
        await call('GET', '/v1/admin/principals/oa-alice/budget'),
      ],
      ['GET', '/v1/admin/usage', await call('GET', '/v1/admin/usage?top=5')],
    ] as const;
    for (const [method, path, body] of checks) {
      expect(validator.response(method, path, 200, body), `${method} ${path}`).toEqual([]);
    }
  });

  it('documents every error /v1/messages and count_tokens pass on from the Anthropic API, with its x-should-retry', async () => {
    const faults = [
      'status=504 type=api_error',
      'status=409 type=invalid_request_error',
      'status=408 type=invalid_request_error',
      'status=413',
      'status=400 should-retry=false',
      'status=429 retry-after=2 should-retry=false',
      'type=overloaded_error should-retry=false',
    ];
    const problems: string[] = [];
    for (const fault of faults) {
      const body = {
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: `hi ${directive(`fault=error-before ${fault}`)}` }],
      };
      const answers = [
        [
          '/v1/messages',
          await stack.request('oa-erin', 'POST', '/v1/messages', { ...body, max_tokens: 20 }),
        ],
        [
          '/v1/messages',
          await stack.request('oa-erin', 'POST', '/v1/messages', {
            ...body,
            max_tokens: 20,
            stream: true,
          }),
        ],
        [
          '/v1/messages/count_tokens',
          await stack.request('oa-erin', 'POST', '/v1/messages/count_tokens', body),
        ],
      ] as const;
      for (const [path, answer] of answers) {
        const status = answer.status;
        problems.push(
          ...(await validator.answer('POST', path, answer)).map(
            (problem) => `${fault} → ${status} ${path}: ${problem}`,
          ),
        );
      }
    }

    expect(problems).toEqual([]);
  });

  it("describes the framing of each stream as it is: useChat's data lines ending with [DONE], Anthropic's named events", async () => {
    const uiChat = (id: string, text: string) =>
      stack.request('oa-frank', 'POST', '/v1/ui/chat', {
        id,
        trigger: 'submit-message',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }],
      });
    const answered = await uiChat('oa-frank-1', 'Hello');
    const failed = await uiChat(
      'oa-frank-2',
      `go ${directive('fault=error-mid after=2 type=overloaded_error')}`,
    );
    const streamed = await stack.request('oa-frank', 'POST', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'Hello' }],
    });

    expect(await validator.answer('POST', '/v1/ui/chat', answered)).toEqual([]);
    expect(await validator.answer('POST', '/v1/ui/chat', failed)).toEqual([]);
    expect(await validator.answer('POST', '/v1/messages', streamed)).toEqual([]);
  });

  it('documents the headers a regenerated answer and a forwarded message carry', async () => {
    const { conversationId } = (
      await collectSse(await stack.chat('oa-grace', { message: 'Hi' }))
    )[0]!.data as { conversationId: string };

    const regenerated = await stack.request(
      'oa-grace',
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      {},
    );
    const forwarded = await stack.request('oa-grace', 'POST', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Hello there' }],
    });

    expect(regenerated.headers.get('x-cache')).toBeTruthy();
    expect(forwarded.headers.get('x-upstream-request-id')).toBeTruthy();
    expect(
      await validator.answer('POST', '/v1/conversations/{id}/regenerate', regenerated),
    ).toEqual([]);
    expect(await validator.answer('POST', '/v1/messages', forwarded)).toEqual([]);
  });
});
