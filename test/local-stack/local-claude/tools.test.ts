import Anthropic from '@anthropic-ai/sdk';
import type {
  MessageParam,
  RawMessageStreamEvent,
  Tool,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { API_HEADERS, directive } from './fixtures.js';

const MODEL = 'claude-sonnet-4-6';
const WEATHER: Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer' },
      hourly: { type: 'boolean' },
      note: { type: 'string' },
    },
    required: ['city', 'unit', 'days', 'hourly'],
  },
};
const SEARCH: Tool = {
  name: 'search_orders',
  input_schema: {
    type: 'object',
    properties: {
      tags: { type: 'array', items: { type: 'string' } },
      range: {
        type: 'object',
        properties: { from: { type: 'number', minimum: 3 }, to: { type: 'number' } },
        required: ['from'],
      },
    },
    required: ['tags', 'range'],
  },
};

describe('local Claude tool use', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const toolUseOf = (content: Anthropic.Messages.ContentBlock[]) =>
    content.find((block): block is ToolUseBlock => block.type === 'tool_use');

  it('calls the tool tool_choice forces, with an input built from its schema', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [SEARCH, WEATHER],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'What is the weather in Paris today?' }],
    });

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toHaveLength(1);
    const call = message.content[0] as ToolUseBlock;
    expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(call.id).toMatch(/^toolu_[0-9A-Za-z]{24}$/);
    expect(call.input).toEqual({
      city: 'What is the weather',
      unit: 'celsius',
      days: 1,
      hourly: true,
    });
    expect(message.usage.output_tokens).toBe(Math.ceil(JSON.stringify(call.input).length / 4));
  });

  it('fills arrays with one item and nested objects recursively, minimums respected', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [SEARCH],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'find my orders' }],
    });

    expect(toolUseOf(message.content)?.input).toEqual({
      tags: ['find my orders'],
      range: { from: 3 },
    });
  });

  it('answers at once for a small schema whose properties each refer back to it (the input grew exponentially)', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const node = {
      type: 'object' as const,
      properties: Object.fromEntries(names.map((name) => [name, { $ref: '#/$defs/node' }])),
      required: names,
    };
    const startedAtMs = Date.now();

    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 20_000,
      tools: [{ name: 'tree', input_schema: { ...node, $defs: { node } } }],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'grow' }],
    });

    expect(Date.now() - startedAtMs).toBeLessThan(2_000);
    const input = toolUseOf(message.content)?.input as Record<string, unknown>;
    expect(Object.keys(input)).toEqual(names);
    expect(JSON.stringify(input).length).toBeLessThan(20_000);
  });

  it('says a few words before calling the tool a reply=tool directive names', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [WEATHER, SEARCH],
      messages: [
        {
          role: 'user',
          content: `Where is my parcel? ${directive('reply=tool tool=search_orders')}`,
        },
      ],
    });

    expect(message.content.map((block) => block.type)).toEqual(['text', 'tool_use']);
    expect(message.content[0]).toMatchObject({ text: 'I will use search_orders.' });
    expect(toolUseOf(message.content)).toMatchObject({
      name: 'search_orders',
      input: { tags: ['Where is my parcel?'] },
    });
    expect(message.stop_reason).toBe('tool_use');
  });

  it('streams the call as input_json_delta chunks that add up to the input', async () => {
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      stream: true,
      tools: [WEATHER],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Weather in Lyon' }],
    });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    const start = events.find((event) => event.type === 'content_block_start');
    expect(start).toMatchObject({
      content_block: { type: 'tool_use', name: 'get_weather', input: {} },
    });
    const chunks = events.flatMap((event) =>
      event.type === 'content_block_delta' && event.delta.type === 'input_json_delta'
        ? [event.delta.partial_json]
        : [],
    );
    expect(chunks.length).toBeGreaterThan(1);
    expect(JSON.parse(chunks.join(''))).toMatchObject({ city: 'Weather in Lyon', days: 1 });
    expect(events.map((event) => event.type).slice(-3)).toEqual([
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: Math.ceil(chunks.join('').length / 4) },
    });
    expect(claude.requests.at(-1)?.outputTokensSent).toBe(Math.ceil(chunks.join('').length / 4));
  });

  it('gives messages.stream() a final message with the parsed input, text first', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 1024,
      tools: [WEATHER],
      messages: [{ role: 'user', content: `Weather in Oslo? ${directive('reply=tool')}` }],
    });
    const inputs: unknown[] = [];
    stream.on('inputJson', (_partial, snapshot) => inputs.push(snapshot));

    const message = await stream.finalMessage();

    expect(message.content.map((block) => block.type)).toEqual(['text', 'tool_use']);
    expect(toolUseOf(message.content)?.input).toEqual({
      city: 'Weather in Oslo?',
      unit: 'celsius',
      days: 1,
      hourly: true,
    });
    expect(inputs.length).toBeGreaterThan(1);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('answers the tool result in a two-step loop with text starting "Tool result:"', async () => {
    const question: MessageParam = { role: 'user', content: 'What is the weather in Rome?' };
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [WEATHER],
      tool_choice: { type: 'any' },
      messages: [question],
    });
    const call = toolUseOf(first.content)!;

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [WEATHER],
      tool_choice: { type: 'any' },
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: call.id,
              content: [{ type: 'text', text: 'Sunny and 24 degrees in Rome all afternoon long' }],
            },
          ],
        },
      ],
    });

    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toHaveLength(1);
    expect(second.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(/^Tool result: Sunny and 24 degrees in Rome all afternoon /),
    });
  });

  it('stops at max_tokens without a partial call when the call does not fit', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 3,
      tools: [WEATHER],
      messages: [{ role: 'user', content: `Weather? ${directive('reply=tool')}` }],
    });

    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content).toEqual([{ type: 'text', text: 'I will use' }]);
    expect(message.usage.output_tokens).toBe(3);
  });

  const post = (body: unknown) =>
    fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: API_HEADERS,
      body: JSON.stringify({ model: MODEL, max_tokens: 64, ...(body as object) }),
    });
  const ask = { role: 'user', content: 'hi' };
  const toolUse = {
    role: 'assistant',
    content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
  };
  const result = (id: string) => ({
    role: 'user',
    content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }],
  });

  it.each([
    [
      'a forced tool that is not in tools',
      { tools: [WEATHER], tool_choice: { type: 'tool', name: 'nope' }, messages: [ask] },
      "Tool 'nope' not found in provided tools",
    ],
    [
      'tool_choice without tools',
      { tool_choice: { type: 'any' }, messages: [ask] },
      'tool_choice may only be specified while providing tools',
    ],
    [
      'an unknown tool_choice type',
      { tools: [WEATHER], tool_choice: { type: 'required' }, messages: [ask] },
      'tool_choice',
    ],
    [
      'a tool name with a space',
      { tools: [{ ...WEATHER, name: 'get weather' }], messages: [ask] },
      "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ],
    [
      'a tool name longer than 128 characters',
      { tools: [{ ...WEATHER, name: 'x'.repeat(129) }], messages: [ask] },
      'tools.0.custom.name: String should have at most 128 characters',
    ],
    [
      'two tools with one name',
      { tools: [WEATHER, WEATHER], messages: [ask] },
      'tools: Tool names must be unique.',
    ],
    [
      'a tool without input_schema',
      { tools: [{ name: 'bare' }], messages: [ask] },
      'tools.0.custom.input_schema: Field required',
    ],
    [
      'a tool_use without its tool_result in the next message',
      { tools: [WEATHER], messages: [ask, toolUse, ask] },
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    ],
    [
      'a tool_result answering no tool_use',
      { tools: [WEATHER], messages: [ask, { role: 'assistant', content: 'hm' }, result('x')] },
      'messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: x. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    ],
    [
      'a tool_use id with a dot',
      {
        tools: [WEATHER],
        messages: [
          ask,
          { role: 'assistant', content: [{ ...toolUse.content[0], id: 'toolu.1' }] },
          result('toolu.1'),
        ],
      },
      "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ],
    [
      'reply=tool without tools',
      { messages: [{ role: 'user', content: `hi ${directive('reply=tool')}` }] },
      'local-claude directive: reply=tool needs tools in the request',
    ],
    [
      'reply=tool naming a tool that is not there',
      { tools: [WEATHER], messages: [{ role: 'user', content: directive('reply=tool tool=x') }] },
      'local-claude directive: tool=x is not in tools',
    ],
  ])('rejects %s with 400 invalid_request_error', async (_case, body, message) => {
    const response = await post(body);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
    });
  });

  it('accepts a history where each tool_use is answered, and records it as sent', async () => {
    const response = await post({ tools: [WEATHER], messages: [ask, toolUse, result('toolu_1')] });

    expect(response.status).toBe(200);
    expect(claude.requests.at(-1)?.body).toMatchObject({
      messages: [ask, toolUse, result('toolu_1')],
    });
  });

  it('surfaces the 400s as the SDK BadRequestError', async () => {
    await expect(
      client.messages.create({
        model: MODEL,
        max_tokens: 64,
        tools: [WEATHER],
        tool_choice: { type: 'tool', name: 'missing' },
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});
