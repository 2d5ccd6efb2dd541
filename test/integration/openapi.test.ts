import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../functions/chat/openapi/document.js';
import { openApiValidator } from '../support/openapi.js';
import { createApiKey } from './support/api-keys.js';
import { collectSse, json, readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { awayFromMinuteEnd } from './support/wall-clock-windows.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;
const MODEL = 'claude-sonnet-4-6';
const OTHER_MODEL = 'claude-haiku-4-5';
const NO_CONVERSATION = `conv_${'0'.repeat(32)}`;

/**
 * One real answer to check: what it is, the operation as the document writes it, the status
 * it must have (undefined: one a race decides), the call.
 */
type Case = readonly [
  label: string,
  method: string,
  path: string,
  status: number | undefined,
  send: () => Promise<Response>,
];

/**
 * The document the stack serves describes what the stack sends: real responses of each
 * kind are checked against its schemas (`[]`: no mismatch).
 */
describe('GET /openapi.json', () => {
  let stack: TestStack;
  let document: OpenApiDocument;
  let validator: ReturnType<typeof openApiValidator>;

  beforeAll(async () => {
    stack = await startTestStack({
      worker: true,
      env: {
        MODEL_MAX_RETRIES: '0',
        ALLOWED_MODELS: `${MODEL},${OTHER_MODEL}`,
        MAX_DOCUMENT_BYTES: '1000',
      },
    });
    const response = await fetch(`${stack.url}/openapi.json`);
    document = await json(response);
    validator = openApiValidator(document);
  });
  afterAll(() => stack?.close());

  /** Each case's mismatches with the document, named: `[]` when it tells the truth. */
  const mismatches = async (cases: readonly Case[]) => {
    const found: string[] = [];
    for (const [label, method, path, status, send] of cases) {
      const answer = await send();
      if (status !== undefined && answer.status !== status) {
        found.push(`${method} ${path} (${label}): ${answer.status}, not ${status}`);
      }
      for (const problem of await validator.answer(method, path, answer)) {
        found.push(`${method} ${path} (${label}, ${answer.status}): ${problem}`);
      }
    }
    return found;
  };
  const as = (userId: string, method: string, path: string, body?: unknown) => () =>
    stack.request(userId, method, path, body);
  const withHeaders =
    (method: string, path: string, headers: Record<string, string>, body?: unknown) => () =>
      fetch(`${stack.url}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
  const faulty = (fault: string) => `go ${directive(`fault=error-before ${fault}`)}`;

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

  it("answers the chat routes' successes and errors as the document says", async () => {
    const admin = { authorization: `Bearer ${await stack.token('oa-operator', { admin: true })}` };
    await withHeaders('PUT', '/v1/admin/principals/oa-broke/budget', admin, {
      monthlyBudgetUsd: 0,
    })();
    const narrow = await createApiKey(stack, {
      principal: 'oa-keyed',
      allowedModels: [OTHER_MODEL],
      requestsPerMinute: 1,
    });
    const keyed = { authorization: `Bearer ${narrow.key}` };
    const first = await collectSse(await stack.chat('oa-henry', { message: 'Hello' }));
    const { conversationId: id, messageId } = first[0]!.data as Record<string, string>;
    const uiChat = (chatId: string, text: string, extra: Record<string, unknown> = {}) =>
      as('oa-henry', 'POST', '/v1/ui/chat', {
        id: chatId,
        trigger: 'submit-message',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }],
        ...extra,
      });
    // The key's second call in one minute is refused: both must fall in the same minute.
    await awayFromMinuteEnd();

    const answered = await mismatches([
      [
        'the rest of an ended answer',
        'GET',
        '/v1/conversations/{id}/stream',
        200,
        as('oa-henry', 'GET', `/v1/conversations/${id}/stream?after=${messageId}:2`),
      ],
      [
        'a turn',
        'POST',
        '/v1/chat',
        200,
        as('oa-henry', 'POST', '/v1/chat', { message: 'Hi', conversationId: id }),
      ],
      [
        'failed mid-stream',
        'POST',
        '/v1/chat',
        200,
        as('oa-henry', 'POST', '/v1/chat', {
          message: `go ${directive('fault=error-mid after=2 type=api_error')}`,
        }),
      ],
      [
        'cut at max tokens',
        'POST',
        '/v1/chat',
        200,
        as('oa-henry', 'POST', '/v1/chat', { message: 'Hi', maxTokens: 2 }),
      ],
      [
        'refused by Claude',
        'POST',
        '/v1/chat',
        200,
        as('oa-henry', 'POST', '/v1/chat', { message: `go ${directive('stop-reason=refusal')}` }),
      ],
      ['invalid body', 'POST', '/v1/chat', 400, as('oa-henry', 'POST', '/v1/chat', { message: 1 })],
      [
        'no credential',
        'POST',
        '/v1/chat',
        401,
        withHeaders('POST', '/v1/chat', {}, { message: 'Hi' }),
      ],
      [
        'a bad token',
        'POST',
        '/v1/chat',
        401,
        withHeaders('POST', '/v1/chat', { authorization: 'Bearer nope' }, { message: 'Hi' }),
      ],
      ['no budget', 'POST', '/v1/chat', 402, as('oa-broke', 'POST', '/v1/chat', { message: 'Hi' })],
      [
        "a model the key can't use",
        'POST',
        '/v1/chat',
        403,
        withHeaders('POST', '/v1/chat', keyed, { message: 'Hi', model: MODEL }),
      ],
      [
        'no such conversation',
        'POST',
        '/v1/chat',
        404,
        as('oa-henry', 'POST', '/v1/chat', { message: 'Hi', conversationId: NO_CONVERSATION }),
      ],
      [
        'Claude refuses the request',
        'POST',
        '/v1/chat',
        502,
        as('oa-henry', 'POST', '/v1/chat', { message: faulty('status=400') }),
      ],
      [
        'Claude fails',
        'POST',
        '/v1/chat',
        503,
        as('oa-henry', 'POST', '/v1/chat', { message: faulty('status=500') }),
      ],
      [
        'Claude overloaded',
        'POST',
        '/v1/chat',
        529,
        as('oa-henry', 'POST', '/v1/chat', { message: faulty('type=overloaded_error') }),
      ],
      [
        "Claude's rate limit",
        'POST',
        '/v1/chat',
        429,
        as('oa-henry', 'POST', '/v1/chat', { message: faulty('status=429 retry-after=3') }),
      ],
      [
        'the rate window',
        'POST',
        '/v1/chat',
        200,
        withHeaders('POST', '/v1/chat', keyed, { message: 'Hi', model: OTHER_MODEL }),
      ],
      [
        'over the rate',
        'POST',
        '/v1/chat',
        429,
        withHeaders('POST', '/v1/chat', keyed, { message: 'Hi', model: OTHER_MODEL }),
      ],
      [
        'the history',
        'GET',
        '/v1/conversations/{id}',
        200,
        as('oa-henry', 'GET', `/v1/conversations/${id}?include=superseded`),
      ],
      [
        'a bad limit',
        'GET',
        '/v1/conversations/{id}',
        400,
        as('oa-henry', 'GET', `/v1/conversations/${id}?limit=0`),
      ],
      [
        'not there',
        'GET',
        '/v1/conversations/{id}',
        404,
        as('oa-henry', 'GET', `/v1/conversations/${NO_CONVERSATION}`),
      ],
      [
        'a page',
        'GET',
        '/v1/conversations',
        200,
        as('oa-henry', 'GET', '/v1/conversations?limit=1'),
      ],
      [
        'a bad cursor',
        'GET',
        '/v1/conversations',
        400,
        as('oa-henry', 'GET', '/v1/conversations?limit=x'),
      ],
      [
        'again',
        'POST',
        '/v1/conversations/{id}/regenerate',
        200,
        as('oa-henry', 'POST', `/v1/conversations/${id}/regenerate`, {}),
      ],
      [
        'an unknown field',
        'POST',
        '/v1/conversations/{id}/regenerate',
        400,
        as('oa-henry', 'POST', `/v1/conversations/${id}/regenerate`, { x: 1 }),
      ],
      [
        'not there',
        'POST',
        '/v1/conversations/{id}/regenerate',
        404,
        as('oa-henry', 'POST', `/v1/conversations/${NO_CONVERSATION}/regenerate`, {}),
      ],
      [
        'nothing streaming',
        'POST',
        '/v1/conversations/{id}/stop',
        409,
        as('oa-henry', 'POST', `/v1/conversations/${id}/stop`),
      ],
      [
        'a bad message id',
        'POST',
        '/v1/conversations/{id}/stop',
        400,
        as('oa-henry', 'POST', `/v1/conversations/${id}/stop?messageId=x`),
      ],
      [
        'not there',
        'POST',
        '/v1/conversations/{id}/stop',
        404,
        as('oa-henry', 'POST', `/v1/conversations/${NO_CONVERSATION}/stop`),
      ],
      [
        'nothing to resume',
        'GET',
        '/v1/conversations/{id}/stream',
        204,
        as('oa-henry', 'GET', `/v1/conversations/${id}/stream?after=${messageId}:end`),
      ],
      [
        'a bad event id',
        'GET',
        '/v1/conversations/{id}/stream',
        400,
        as('oa-henry', 'GET', `/v1/conversations/${id}/stream?after=x`),
      ],
      [
        'not there',
        'GET',
        '/v1/conversations/{id}/stream',
        404,
        as('oa-henry', 'GET', `/v1/conversations/${NO_CONVERSATION}/stream`),
      ],
      ['useChat', 'POST', '/v1/ui/chat', 200, uiChat('oa-chat-1', 'Hello')],
      [
        'useChat regenerates',
        'POST',
        '/v1/ui/chat',
        200,
        uiChat('oa-chat-1', 'Hello', { trigger: 'regenerate-message' }),
      ],
      [
        'useChat, failed mid-stream',
        'POST',
        '/v1/ui/chat',
        200,
        uiChat('oa-chat-2', `go ${directive('fault=error-mid after=2 type=api_error')}`),
      ],
      [
        'useChat edits an unknown question',
        'POST',
        '/v1/ui/chat',
        404,
        uiChat('oa-chat-1', 'Hi', { messageId: `msg_${'1'.repeat(32)}` }),
      ],
      [
        'useChat, a bad trigger',
        'POST',
        '/v1/ui/chat',
        400,
        uiChat('oa-chat-1', 'Hi', { trigger: 'x' }),
      ],
      [
        'useChat, Claude fails',
        'POST',
        '/v1/ui/chat',
        503,
        uiChat('oa-chat-3', faulty('status=500')),
      ],
      [
        'nothing to resume',
        'GET',
        '/v1/ui/chat/{id}/stream',
        204,
        as('oa-henry', 'GET', '/v1/ui/chat/oa-chat-1/stream'),
      ],
      [
        'a bad chat id',
        'GET',
        '/v1/ui/chat/{id}/stream',
        400,
        as('oa-henry', 'GET', '/v1/ui/chat/bad%20id/stream'),
      ],
      [
        "a useChat chat's messages",
        'GET',
        '/v1/ui/chat/{id}/messages',
        200,
        as('oa-henry', 'GET', '/v1/ui/chat/oa-chat-1/messages'),
      ],
      [
        'a bad chat id',
        'GET',
        '/v1/ui/chat/{id}/messages',
        400,
        as('oa-henry', 'GET', '/v1/ui/chat/bad%20id/messages'),
      ],
      [
        'deleted',
        'DELETE',
        '/v1/conversations/{id}',
        204,
        as('oa-henry', 'DELETE', `/v1/conversations/${id}`),
      ],
      [
        'not there',
        'DELETE',
        '/v1/conversations/{id}',
        404,
        as('oa-henry', 'DELETE', `/v1/conversations/${id}`),
      ],
    ]);

    expect(answered).toEqual([]);
  });

  it('answers while a turn streams as the document says: busy, followed, stopped', async () => {
    // Long enough to be stopped while it streams; the useChat one runs to its end.
    const streaming = await stack.chat('oa-iris', {
      message: `slow ${directive('tokens=400 tps=40')}`,
    });
    // The first event from a copy (left unread: cancelling one branch of a tee waits for
    // the other), while the stream itself is checked whole once it ended.
    const copy = readSse(streaming.clone());
    const id = ((await copy.next()).value!.data as Record<string, string>).conversationId!;
    const uiStreaming = await stack.request('oa-iris', 'POST', '/v1/ui/chat', {
      id: 'oa-iris-chat',
      trigger: 'submit-message',
      messages: [
        {
          id: 'u1',
          role: 'user',
          parts: [{ type: 'text', text: `go ${directive('tokens=60 tps=40')}` }],
        },
      ],
    });
    await uiStreaming.clone().body!.getReader().read();
    const followed = await stack.request('oa-iris', 'GET', `/v1/conversations/${id}/stream`);
    const uiFollowed = await stack.request('oa-iris', 'GET', '/v1/ui/chat/oa-iris-chat/stream');

    const whileBusy = await mismatches([
      [
        'busy',
        'POST',
        '/v1/chat',
        409,
        as('oa-iris', 'POST', '/v1/chat', { message: 'Hi', conversationId: id }),
      ],
      [
        'busy',
        'POST',
        '/v1/conversations/{id}/regenerate',
        409,
        as('oa-iris', 'POST', `/v1/conversations/${id}/regenerate`, {}),
      ],
      [
        'another answer',
        'POST',
        '/v1/conversations/{id}/stop',
        409,
        as('oa-iris', 'POST', `/v1/conversations/${id}/stop?messageId=msg_${'2'.repeat(32)}`),
      ],
      [
        "a useChat chat's messages, its answer streaming",
        'GET',
        '/v1/ui/chat/{id}/messages',
        200,
        as('oa-iris', 'GET', '/v1/ui/chat/oa-iris-chat/messages'),
      ],
      [
        'stopping',
        'POST',
        '/v1/conversations/{id}/stop',
        202,
        as('oa-iris', 'POST', `/v1/conversations/${id}/stop`),
      ],
    ]);
    const ended = await mismatches([
      ['the stopped turn', 'POST', '/v1/chat', 200, async () => streaming],
      ['followed to its end', 'GET', '/v1/conversations/{id}/stream', 200, async () => followed],
      ['useChat', 'POST', '/v1/ui/chat', 200, async () => uiStreaming],
      ['useChat followed', 'GET', '/v1/ui/chat/{id}/stream', 200, async () => uiFollowed],
    ]);

    expect(followed.status).toBe(200);
    expect(uiFollowed.status).toBe(200);
    expect([...whileBusy, ...ended]).toEqual([]);
  });

  it('answers the jobs, usage, models, messages and admin routes as the document says', async () => {
    const admin = { authorization: `Bearer ${await stack.token('oa-operator', { admin: true })}` };
    const user = { authorization: `Bearer ${await stack.token('oa-jack')}` };
    await withHeaders('PUT', '/v1/admin/principals/oa-broke/budget', admin, {
      monthlyBudgetUsd: 0,
    })();
    const narrow = await createApiKey(stack, {
      principal: 'oa-jack',
      allowedModels: [OTHER_MODEL],
    });
    const keyed = { authorization: `Bearer ${narrow.key}` };
    const job = await json(
      await stack.request('oa-jack', 'POST', '/v1/jobs', { type: 'summarize', text: 'A memo.' }),
    );
    const queued = await json(
      await stack.request('oa-jack', 'POST', '/v1/jobs', {
        type: 'summarize',
        text: 'A memo, in a batch.',
        priority: 'batch',
      }),
    );
    const message = { model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] };
    const counted = { model: MODEL, messages: message.messages };
    const key = await json(
      await withHeaders('POST', '/v1/admin/keys', admin, { principal: 'oa-kate', name: 'ci' })(),
    );

    const answered = await mismatches([
      [
        'a summary',
        'POST',
        '/v1/jobs',
        202,
        as('oa-jack', 'POST', '/v1/jobs', { type: 'summarize', text: 'Another memo.' }),
      ],
      [
        'no text',
        'POST',
        '/v1/jobs',
        400,
        as('oa-jack', 'POST', '/v1/jobs', { type: 'summarize' }),
      ],
      [
        "a model the key can't use",
        'POST',
        '/v1/jobs',
        403,
        withHeaders('POST', '/v1/jobs', keyed, { type: 'summarize', text: 'x', model: MODEL }),
      ],
      [
        'its id, other content',
        'POST',
        '/v1/jobs',
        409,
        as('oa-jack', 'POST', '/v1/jobs', { type: 'summarize', text: 'Other.', jobId: job.jobId }),
      ],
      [
        'too large',
        'POST',
        '/v1/jobs',
        413,
        as('oa-jack', 'POST', '/v1/jobs', { type: 'summarize', text: 'x'.repeat(2000) }),
      ],
      // 200 or 409: the worker on the queue may take the job first.
      [
        'cancelled',
        'POST',
        '/v1/jobs/{id}/cancel',
        undefined,
        as('oa-jack', 'POST', `/v1/jobs/${queued.jobId}/cancel`),
      ],
      [
        'cancelled again',
        'POST',
        '/v1/jobs/{id}/cancel',
        undefined,
        as('oa-jack', 'POST', `/v1/jobs/${queued.jobId}/cancel`),
      ],
      [
        'not there',
        'POST',
        '/v1/jobs/{id}/cancel',
        404,
        as('oa-jack', 'POST', '/v1/jobs/job_none/cancel'),
      ],
      ['a job', 'GET', '/v1/jobs/{id}', 200, as('oa-jack', 'GET', `/v1/jobs/${queued.jobId}`)],
      ['not there', 'GET', '/v1/jobs/{id}', 404, as('oa-jack', 'GET', '/v1/jobs/job_none')],
      ['a page', 'GET', '/v1/jobs', 200, as('oa-jack', 'GET', '/v1/jobs?limit=1')],
      ['a bad status', 'GET', '/v1/jobs', 400, as('oa-jack', 'GET', '/v1/jobs?status=x')],
      ['with a JWT', 'GET', '/v1/usage', 200, as('oa-jack', 'GET', '/v1/usage')],
      ['with an API key', 'GET', '/v1/usage', 200, withHeaders('GET', '/v1/usage', keyed)],
      [
        'a message',
        'POST',
        '/v1/messages',
        200,
        withHeaders('POST', '/v1/messages', user, message),
      ],
      [
        'streamed',
        'POST',
        '/v1/messages',
        200,
        withHeaders('POST', '/v1/messages', user, { ...message, stream: true }),
      ],
      [
        'failed mid-stream',
        'POST',
        '/v1/messages',
        200,
        withHeaders('POST', '/v1/messages', user, {
          ...message,
          stream: true,
          messages: [
            {
              role: 'user',
              content: `go ${directive('fault=error-mid after=2 type=overloaded_error')}`,
            },
          ],
        }),
      ],
      [
        'no messages',
        'POST',
        '/v1/messages',
        400,
        withHeaders('POST', '/v1/messages', user, { model: MODEL }),
      ],
      [
        'a beta not allowed',
        'POST',
        '/v1/messages',
        400,
        withHeaders('POST', '/v1/messages', { ...user, 'anthropic-beta': 'nope-1' }, message),
      ],
      [
        "a model the key can't use",
        'POST',
        '/v1/messages',
        403,
        withHeaders('POST', '/v1/messages', keyed, message),
      ],
      ['no budget', 'POST', '/v1/messages', 402, as('oa-broke', 'POST', '/v1/messages', message)],
      [
        'the key refused upstream',
        'POST',
        '/v1/messages',
        502,
        withHeaders('POST', '/v1/messages', user, {
          ...message,
          messages: [{ role: 'user', content: faulty('status=401') }],
        }),
      ],
      [
        'an unknown model upstream',
        'POST',
        '/v1/messages',
        404,
        withHeaders('POST', '/v1/messages', user, {
          ...message,
          messages: [{ role: 'user', content: faulty('status=404') }],
        }),
      ],
      [
        'counted',
        'POST',
        '/v1/messages/count_tokens',
        200,
        withHeaders('POST', '/v1/messages/count_tokens', user, counted),
      ],
      [
        'no messages',
        'POST',
        '/v1/messages/count_tokens',
        400,
        withHeaders('POST', '/v1/messages/count_tokens', user, { model: MODEL }),
      ],
      [
        "a model the key can't use",
        'POST',
        '/v1/messages/count_tokens',
        403,
        withHeaders('POST', '/v1/messages/count_tokens', keyed, counted),
      ],
      ['models', 'GET', '/v1/models', 200, as('oa-jack', 'GET', '/v1/models')],
      ['a bad lifecycle', 'GET', '/v1/models', 400, as('oa-jack', 'GET', '/v1/models?lifecycle=x')],
      ['a model', 'GET', '/v1/models/{modelId}', 200, as('oa-jack', 'GET', `/v1/models/${MODEL}`)],
      ['not there', 'GET', '/v1/models/{modelId}', 404, as('oa-jack', 'GET', '/v1/models/gpt-5')],
      [
        'not an admin',
        'POST',
        '/v1/admin/keys',
        403,
        withHeaders('POST', '/v1/admin/keys', user, { principal: 'oa-kate' }),
      ],
      [
        'an API key',
        'POST',
        '/v1/admin/keys',
        403,
        withHeaders('POST', '/v1/admin/keys', keyed, { principal: 'oa-kate' }),
      ],
      [
        'no principal',
        'POST',
        '/v1/admin/keys',
        400,
        withHeaders('POST', '/v1/admin/keys', admin, { principal: '' }),
      ],
      [
        'not there',
        'GET',
        '/v1/admin/keys/{keyId}',
        404,
        withHeaders('GET', '/v1/admin/keys/key_none', admin),
      ],
      [
        'revoked',
        'DELETE',
        '/v1/admin/keys/{keyId}',
        200,
        withHeaders('DELETE', `/v1/admin/keys/${key.id}`, admin),
      ],
      [
        'revoked',
        'PATCH',
        '/v1/admin/keys/{keyId}',
        409,
        withHeaders('PATCH', `/v1/admin/keys/${key.id}`, admin, { requestsPerMinute: 5 }),
      ],
      [
        'not there',
        'DELETE',
        '/v1/admin/keys/{keyId}',
        404,
        withHeaders('DELETE', '/v1/admin/keys/key_none', admin),
      ],
      [
        'a revoked key',
        'GET',
        '/v1/usage',
        401,
        withHeaders('GET', '/v1/usage', { authorization: `Bearer ${key.key}` }),
      ],
      [
        'a bad principal',
        'GET',
        '/v1/admin/principals/{principal}/budget',
        400,
        withHeaders('GET', '/v1/admin/principals/%20/budget', admin),
      ],
      [
        'a negative budget',
        'PUT',
        '/v1/admin/principals/{principal}/budget',
        400,
        withHeaders('PUT', '/v1/admin/principals/oa-kate/budget', admin, { monthlyBudgetUsd: -1 }),
      ],
      [
        'a bad month',
        'GET',
        '/v1/admin/usage',
        400,
        withHeaders('GET', '/v1/admin/usage?month=x', admin),
      ],
      [
        'the report',
        'GET',
        '/v1/admin/usage',
        200,
        withHeaders('GET', '/v1/admin/usage?top=3', admin),
      ],
      ['the page', 'GET', '/playground', 200, () => fetch(`${stack.url}/playground`)],
      ['the page', 'GET', '/', 200, () => fetch(`${stack.url}/`)],
      ['healthy', 'GET', '/health', 200, () => fetch(`${stack.url}/health`)],
    ]);

    expect(answered).toEqual([]);
  });
});

/**
 * GET /v1/models reads the Anthropic API's listing: each way the listing can fail reaches the
 * caller with a status the document gives, as it does for /v1/messages. The upstream stands
 * in for the Anthropic API (the local Claude's listing cannot fail).
 */
describe('GET /openapi.json on GET /v1/models whose upstream listing fails', () => {
  let upstream: Server;
  // Until a case sets it: what the API answers a path it has not (the stack's first GET is one).
  let answer: { status: number; type: string; headers?: Record<string, string> } | 'drop' = {
    status: 404,
    type: 'not_found_error',
  };
  let stack: TestStack;
  let validator: ReturnType<typeof openApiValidator>;

  beforeAll(async () => {
    upstream = createServer((_, res) => {
      if (answer === 'drop') return res.socket?.destroy();
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify({ type: 'error', error: { type: answer.type, message: 'refused' } }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    stack = await startTestStack({
      anthropicBaseUrl: `http://127.0.0.1:${port}`,
      env: { MODEL_MAX_RETRIES: '0' },
    });
    validator = openApiValidator(await json(await fetch(`${stack.url}/openapi.json`)));
  });
  afterAll(async () => {
    await stack?.close();
    upstream?.close();
  });

  it.each([
    ["the deployment's key refused", { status: 401, type: 'authentication_error' }, 502],
    ['overloaded', { status: 529, type: 'overloaded_error' }, 529],
    [
      'rate limited',
      { status: 429, type: 'rate_limit_error', headers: { 'retry-after': '1' } },
      429,
    ],
    ['failing', { status: 500, type: 'api_error' }, 500],
    ['unreachable', 'drop' as const, 503],
  ])('documents the answer when the listing is %s (%j)', async (_, upstreamAnswer, status) => {
    answer = upstreamAnswer;

    for (const path of ['/v1/models', `/v1/models/${MODEL}`]) {
      const response = await stack.request('oa-models', 'GET', path);
      const documentedAs = path === '/v1/models' ? path : '/v1/models/{modelId}';

      expect(response.status, path).toBe(status);
      expect(await validator.answer('GET', documentedAs, response), path).toEqual([]);
    }
  });
});
