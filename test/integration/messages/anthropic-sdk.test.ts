import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../support/api-keys.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';

/** The official SDK, unchanged but for its base URL and key: a user's JWT. */
describe('/v1/messages with the official Anthropic SDK', () => {
  let stack: TestStack;
  let client: Anthropic;

  beforeAll(async () => {
    stack = await startTestStack();
    client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('sdk-user') });
  });
  afterAll(() => stack.close());

  it('answers messages.create with the upstream message, as JSON', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hello there [[local-claude: tokens=5]]' }],
    });

    expect(message.type).toBe('message');
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(message.usage.output_tokens).toBe(5);
    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.body).toMatchObject({ model: MODEL, max_tokens: 50 });
    expect(upstream.headers['anthropic-version']).toBe('2026-10-21');
  });

  it("takes the beta namespace as Claude Code uses it (?beta=true, Claude Code's betas)", async () => {
    const message = await client.beta.messages.create({
      model: MODEL,
      max_tokens: 20,
      betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14'],
      messages: [{ role: 'user', content: 'From Claude Code [[local-claude: tokens=3]]' }],
    });

    expect(message.usage.output_tokens).toBe(3);
    expect(stack.claude.requests.at(-1)!.headers['anthropic-beta']).toBe(
      'claude-code-20250219,interleaved-thinking-2025-05-14',
    );
  });

  it("forwards the betas the SDK's beta helpers add themselves (countTokens, parse)", async () => {
    const counted = await client.beta.messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(stack.claude.requests.at(-1)!.headers['anthropic-beta']).toBe(
      'token-counting-2024-11-01',
    );

    const calls = stack.claude.requests.length;
    // What matters is that the call went upstream, with the beta the helper adds.
    await client.beta.messages
      .parse({
        model: MODEL,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'Answer in JSON [[local-claude: tokens=3]]' }],
      })
      .catch(() => undefined);
    expect(stack.claude.requests.length).toBe(calls + 1);
    expect(stack.claude.requests.at(-1)!.headers['anthropic-beta']).toBe(
      'structured-outputs-2025-12-15',
    );
  });

  it("runs the SDK's tool runner, which goes on without the message thread it asks for by default, refused here", async () => {
    const params = {
      model: MODEL,
      max_tokens: 300,
      max_iterations: 3,
      messages: [{ role: 'user' as const, content: 'Look it up [[local-claude: reply=tool]]' }],
      tools: [
        {
          name: 'lookup',
          description: 'Looks a word up',
          input_schema: {
            type: 'object' as const,
            properties: { word: { type: 'string' } },
            required: ['word'],
          },
          run: async () => 'found',
        },
      ],
    };
    const calls = stack.claude.requests.length;

    for (const runner of [
      client.beta.messages.toolRunner(params),
      client.beta.messages.toolRunner({ ...params, thread: false }),
    ]) {
      const final = await runner.runUntilDone();

      expect(final.stop_reason).toBe('end_turn');
      expect(final.content[0]).toMatchObject({
        type: 'text',
        text: expect.stringMatching(/^Tool result: found/),
      });
    }
    // Two calls a run (the tool use, then the answer to its result), none with a thread.
    const sent = stack.claude.requests.slice(calls);
    expect(sent).toHaveLength(4);
    for (const request of sent) expect(request.body).not.toHaveProperty('thread');
  });

  it('names every answer with a request id the SDK reads, the models API included', async () => {
    const listed = await client.models.list().withResponse();
    const retrieved = await client.models.retrieve(MODEL).withResponse();
    const counted = await client.messages
      .countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();

    for (const { request_id, response } of [listed, retrieved, counted]) {
      expect(request_id).toBeTruthy();
      expect(request_id).toBe(response.headers.get('x-request-id'));
    }
  });

  it("answers the SDK's methods for APIs not served here (Message Batches, Files) with a NotFoundError naming what is (it said only 'no such route')", async () => {
    const modelCalls = stack.claude.requests.length;
    const batch = {
      custom_id: 'one',
      params: { model: MODEL, max_tokens: 5, messages: [{ role: 'user' as const, content: 'hi' }] },
    };
    // Each call's error is taken as it is made: awaited one by one, the later ones would
    // reject with no handler yet.
    const settled = (call: Promise<unknown>) =>
      call.then(
        () => undefined,
        (caught: unknown) => caught,
      );
    const calls: Array<[string, Promise<unknown>]> = [
      ['POST /v1/messages/batches', settled(client.messages.batches.create({ requests: [batch] }))],
      ['GET /v1/messages/batches', settled(client.messages.batches.list())],
      [
        'GET /v1/messages/batches/msgbatch_1',
        settled(client.messages.batches.retrieve('msgbatch_1')),
      ],
      ['GET /v1/files', settled(client.beta.files.list())],
      [
        'POST /v1/files',
        settled(
          client.beta.files.upload({
            file: new File(['notes'], 'notes.txt', { type: 'text/plain' }),
          }),
        ),
      ],
      ['DELETE /v1/files/file_1', settled(client.beta.files.delete('file_1'))],
    ];

    for (const [route, call] of calls) {
      const error = await call;
      expect(error, route).toBeInstanceOf(Anthropic.NotFoundError);
      expect((error as APIError).type, route).toBe('not_found_error');
      expect((error as Error).message, route).toContain(`${route} is not served here`);
      expect((error as Error).message, route).toContain(
        'POST /v1/messages, POST /v1/messages/count_tokens',
      );
    }
    expect(stack.claude.requests).toHaveLength(modelCalls);
  });

  it('streams every event in order with messages.stream, and finalMessage() resolves', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Stream it [[local-claude: tokens=4]]' }],
    });
    const events: string[] = [];
    stream.on('streamEvent', (event) => events.push(event.type));

    const message = await stream.finalMessage();

    expect(message.stop_reason).toBe('end_turn');
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events.filter((type) => type === 'content_block_delta')).toHaveLength(4);
  });

  it('takes a PDF by url under the default rate limits, though its pages cannot be counted', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'url', url: 'https://example.com/report.pdf' } },
            { type: 'text', text: 'Summarize it [[local-claude: tokens=3]]' },
          ],
        },
      ],
    });

    expect(message.usage.output_tokens).toBe(3);
  });

  it('refuses a document without a source with 400 before any model call', async () => {
    const modelCalls = stack.claude.requests.length;
    const refused = client.messages.create({
      model: MODEL,
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          // A client of another SDK (or none) may send what the types here forbid.
          content: [{ type: 'document' } as unknown as Anthropic.DocumentBlockParam],
        },
      ],
    });

    await expect(refused).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(refused).rejects.toThrow(
      /messages\.0\.content\.0: an image or document block needs a source/,
    );
    expect(stack.claude.requests).toHaveLength(modelCalls);
  });
});

describe('/v1/messages with the official SDK: tools, images, counting, models', () => {
  let stack: TestStack;
  let client: Anthropic;

  beforeAll(async () => {
    stack = await startTestStack({ env: { ALLOWED_MODELS: 'claude-haiku-4-5' } });
    client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('tool-user') });
  });
  afterAll(() => stack.close());

  const weatherTool = {
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: {
      type: 'object' as const,
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  };

  it('runs a two-step tool-use loop: tool_use streamed as input_json deltas, then the answer', async () => {
    const question = {
      role: 'user' as const,
      content: 'Weather in Paris? [[local-claude: reply=tool]]',
    };
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 200,
      tools: [weatherTool],
      messages: [question],
    });
    const deltas: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') deltas.push(event.delta.type);
    });
    const first = await stream.finalMessage();
    const toolUse = first.content.find((block) => block.type === 'tool_use');

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: toolUse!.id, content: 'Sunny, 21 degrees' },
          ],
        },
      ],
    });

    expect(first.stop_reason).toBe('tool_use');
    expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: expect.any(String) } });
    expect(deltas).toContain('input_json_delta');
    expect(second.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(/^Tool result: Sunny/),
    });
    expect(stack.claude.requests.at(-1)!.body).toMatchObject({ tools: [weatherTool] });
  });

  it('passes an image block and extended thinking through', async () => {
    // A 1x1 transparent PNG.
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 3000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            { type: 'text', text: 'What is in this image? [[local-claude: tokens=5]]' },
          ],
        },
      ],
    });

    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(stack.claude.requests.at(-1)!.body).toMatchObject({
      messages: [{ content: [{ type: 'image', source: { data: png } }, { type: 'text' }] }],
    });
  });

  it('counts tokens (free) as the upstream counts them', async () => {
    const params = {
      model: MODEL,
      system: 'Be brief.',
      messages: [{ role: 'user' as const, content: 'How many tokens is this?' }],
    };

    const counted = await client.messages.countTokens(params);
    const answered = await client.messages.create({ ...params, max_tokens: 5 });

    expect(counted.input_tokens).toBe(
      answered.usage.input_tokens +
        (answered.usage.cache_read_input_tokens ?? 0) +
        (answered.usage.cache_creation_input_tokens ?? 0),
    );
    expect(stack.claude.requests.at(-2)!.path).toBe('/v1/messages/count_tokens');
  });

  it('lists only the models this caller may use, in the API list shape', async () => {
    const models: string[] = [];
    for await (const model of client.models.list({ limit: 1 })) models.push(model.id);
    const { key } = await createApiKey(stack, {
      principal: 'haiku-only',
      allowedModels: ['claude-haiku-4-5'],
    });
    const keyClient = new Anthropic({ baseURL: stack.url, apiKey: key });

    const keyModels = (await keyClient.models.list()).data.map((model) => model.id);
    const retrieved = await client.models.retrieve(MODEL);
    const hidden = await keyClient.models.retrieve(MODEL).catch((error: unknown) => error);

    expect(models.sort()).toEqual(['claude-haiku-4-5', MODEL]);
    expect(keyModels).toEqual(['claude-haiku-4-5']);
    expect(retrieved).toMatchObject({ type: 'model', id: MODEL, display_name: expect.any(String) });
    expect(hidden).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("retrieves an allowed model by its dated snapshot id, as /v1/messages takes it (it was a 404), and no other model's", async () => {
    const upstream = new Anthropic({ baseURL: stack.claude.url, apiKey: 'test' });
    const { key } = await createApiKey(stack, {
      principal: 'haiku-snapshot',
      allowedModels: ['claude-haiku-4-5'],
    });
    const keyClient = new Anthropic({ baseURL: stack.url, apiKey: key });
    const snapshot = 'claude-haiku-4-5-20251001';

    const retrieved = await client.models.retrieve(snapshot);
    const byKey = await keyClient.models.retrieve(snapshot);
    const answered = await keyClient.messages.create({
      model: snapshot,
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi [[local-claude: tokens=2]]' }],
    });
    const refused = await Promise.all(
      ['claude-haiku-4-5-20991231', 'claude-sonnet-4-5-20250929'].map((id) =>
        client.models.retrieve(id).catch((error: unknown) => error),
      ),
    );

    expect(retrieved).toEqual(await upstream.models.retrieve(snapshot));
    expect(byKey.id).toBe(snapshot);
    expect(answered.usage.output_tokens).toBe(2);
    for (const error of refused) expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("filters the list by the SDK's lifecycle parameter, and refuses a stage the API does not have (it listed every model whatever was asked)", async () => {
    const ids = async (lifecycle: Anthropic.ModelListParams['lifecycle']) =>
      (await client.models.list({ lifecycle })).data.map((model) => model.id).sort();

    // Every model of the local Claude is active.
    expect(await ids(['active'])).toEqual(['claude-haiku-4-5', MODEL]);
    expect(await ids(['deprecated'])).toEqual([]);
    expect(await ids(['deprecated', 'retired', 'active'])).toEqual(['claude-haiku-4-5', MODEL]);
    await expect(ids(['withdrawn' as 'retired'])).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('describes each model with every field upstream sent: max_tokens, capabilities, lifecycle…', async () => {
    const upstream = new Anthropic({ baseURL: stack.claude.url, apiKey: 'test' });

    const listed = (await client.models.list()).data;
    const retrieved = await client.models.retrieve(MODEL);

    expect(listed.map((model) => model.id).sort()).toEqual(['claude-haiku-4-5', MODEL]);
    for (const model of [...listed, retrieved]) {
      const described = await upstream.models.retrieve(model.id);
      expect(described.max_tokens).toEqual(expect.any(Number));
      expect(model).toEqual(described);
    }
  });
});

describe('/v1/models through the official SDK, for a deployment allowing several models', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { ALLOWED_MODELS: 'claude-opus-4-8,claude-opus-4-7,claude-haiku-4-5,claude-sonnet-4-5' },
    });
  });
  afterAll(() => stack.close());

  it('lists the models newest first, as the API does (Sonnet 4.6 was listed after older models, dated 1970)', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('lister') });

    const listed: Anthropic.ModelInfo[] = [];
    for await (const model of client.models.list({ limit: 2 })) listed.push(model);

    expect(listed.map((model) => model.id)).toEqual([
      'claude-opus-4-8',
      'claude-opus-4-7',
      MODEL,
      'claude-haiku-4-5',
      'claude-sonnet-4-5',
    ]);
    const dates = listed.map((model) => model.created_at);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(dates.filter((date) => date.startsWith('1970'))).toEqual([]);
  });
});
