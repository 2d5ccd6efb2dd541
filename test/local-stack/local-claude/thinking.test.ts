import Anthropic from '@anthropic-ai/sdk';
import type {
  RawMessageStreamEvent,
  ThinkingBlock,
  Tool,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { API_HEADERS, directive } from './fixtures.js';

// Not claude-opus-4-6: the SDK warns that manual (enabled) thinking is deprecated there.
const MODEL = 'claude-sonnet-4-6';
const ENABLED = { type: 'enabled', budget_tokens: 1024 } as const;
const LOOKUP: Tool = {
  name: 'lookup',
  input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
};

describe('local Claude extended thinking', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  it('starts the answer with a signed thinking block whose tokens count as output', async () => {
    const plain = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: ENABLED,
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });

    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    const thinking = message.content[0] as ThinkingBlock;
    expect(thinking.thinking.split(' ')).toHaveLength(12);
    expect(thinking.signature).toMatch(/^[A-Za-z0-9+/]{40,}={0,2}$/);
    expect(message.content[1]).toEqual(plain.content[0]);
    expect(message.usage.output_tokens).toBe(plain.usage.output_tokens + 12);
    expect(message.usage.output_tokens_details).toEqual({ thinking_tokens: 12 });
  });

  it('streams thinking_delta events, then one signature_delta, then the text block', async () => {
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      stream: true,
      thinking: { type: 'adaptive' },
      messages: [
        { role: 'user', content: `Think first ${directive('thinking-tokens=5 tokens=4')}` },
      ],
    });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    const deltas = events.flatMap((event) =>
      event.type === 'content_block_delta' ? [`${event.index}:${event.delta.type}`] : [],
    );
    expect(deltas).toEqual([
      ...Array(5).fill('0:thinking_delta'),
      '0:signature_delta',
      ...Array(4).fill('1:text_delta'),
    ]);
    expect(events.find((event) => event.type === 'content_block_start')).toMatchObject({
      index: 0,
      content_block: { type: 'thinking', thinking: '' },
    });
    expect(events.at(-2)).toMatchObject({
      usage: { output_tokens: 9, output_tokens_details: { thinking_tokens: 5 } },
    });
  });

  it('gives messages.stream() the thinking text and signature in the final message', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 2048,
      thinking: ENABLED,
      messages: [{ role: 'user', content: 'Plan a trip' }],
    });
    const thinkingDeltas: string[] = [];
    stream.on('thinking', (delta) => thinkingDeltas.push(delta));

    const message = await stream.finalMessage();

    const thinking = message.content[0] as ThinkingBlock;
    expect(thinking.thinking).toBe(thinkingDeltas.join(''));
    expect(thinking.signature.length).toBeGreaterThan(40);
    expect(message.content[1]?.type).toBe('text');
  });

  it('caps thinking at budget_tokens and counts it against max_tokens', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1030,
      thinking: ENABLED,
      messages: [{ role: 'user', content: `Long thought ${directive('thinking-tokens=2000')}` }],
    });

    expect(message.usage.output_tokens_details).toEqual({ thinking_tokens: 1024 });
    expect(message.usage.output_tokens).toBe(1030);
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('bills omitted thinking without sending its text', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' },
      messages: [{ role: 'user', content: `Quietly ${directive('tokens=3')}` }],
    });

    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
    expect(message.usage).toMatchObject({
      output_tokens: 15,
      output_tokens_details: { thinking_tokens: 12 },
    });
  });

  it('thinks unasked, showing nothing, on the models that do (Opus 5, the 5.5 models, Fable 5.1)', async () => {
    const ask = (model: string) =>
      client.messages.create({
        model,
        max_tokens: 2048,
        messages: [{ role: 'user', content: `Unasked ${directive('tokens=3')}` }],
      });

    for (const model of ['claude-opus-5', 'claude-opus-5-5', 'claude-haiku-5-5']) {
      const message = await ask(model);
      expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
      expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
      expect(message.usage.output_tokens).toBe(15);
    }
    expect((await ask('claude-sonnet-4-6')).content.map((block) => block.type)).toEqual(['text']);
  });

  it('does nothing when thinking is disabled', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      thinking: { type: 'disabled' },
      messages: [{ role: 'user', content: 'Just answer' }],
    });

    expect(message.content.map((block) => block.type)).toEqual(['text']);
    expect(message.usage.output_tokens_details ?? null).toBeNull();
  });

  it('accepts thinking and redacted_thinking blocks sent back in a tool loop', async () => {
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: ENABLED,
      tools: [LOOKUP],
      messages: [{ role: 'user', content: `Look it up ${directive('reply=tool')}` }],
    });
    const call = first.content.find((block): block is ToolUseBlock => block.type === 'tool_use')!;

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: ENABLED,
      tools: [LOOKUP],
      messages: [
        { role: 'user', content: 'Look it up' },
        {
          role: 'assistant',
          content: [{ type: 'redacted_thinking', data: 'opaque' }, ...first.content],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '42' }] },
      ],
    });

    expect(first.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(second.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(second.content[1]).toMatchObject({ text: expect.stringMatching(/^Tool result: 42 /) });
  });

  const post = (body: object) =>
    fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: API_HEADERS,
      body: JSON.stringify({ model: MODEL, max_tokens: 2048, ...body }),
    });
  const ask = { role: 'user', content: 'hi' };

  it.each([
    [
      'a budget below 1024',
      { thinking: { type: 'enabled', budget_tokens: 1000 }, messages: [ask] },
      'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
    ],
    [
      'a budget not below max_tokens',
      { max_tokens: 1024, thinking: ENABLED, messages: [ask] },
      '`max_tokens` must be greater than `thinking.budget_tokens`',
    ],
    ['an unknown thinking type', { thinking: { type: 'deep' }, messages: [ask] }, 'thinking'],
    [
      'thinking with a forced tool',
      { thinking: ENABLED, tools: [LOOKUP], tool_choice: { type: 'any' }, messages: [ask] },
      'Thinking may not be enabled when tool_choice forces tool use.',
    ],
    [
      'a thinking block without signature',
      {
        messages: [
          ask,
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm' }] },
          ask,
        ],
      },
      'messages.1.content.0.thinking.signature: Field required',
    ],
    [
      'a tool loop whose assistant turn does not open with thinking',
      {
        thinking: ENABLED,
        tools: [LOOKUP],
        messages: [
          ask,
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }],
          },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'y' }],
          },
        ],
      },
      'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`.',
    ],
  ])('rejects %s with 400 invalid_request_error', async (_case, body, message) => {
    const response = await post(body);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
    });
  });
});

describe('local Claude thinking without showing it', () => {
  let claude: LocalClaude;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0 });
  });
  afterAll(() => claude.close());

  it('is silent for as long as its thinking takes, but for a ping every keep-alive', async () => {
    const startedAt = Date.now();
    const response = await fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: API_HEADERS,
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 2048,
        stream: true,
        thinking: { ...ENABLED, display: 'omitted' },
        messages: [
          {
            role: 'user',
            content: `Think ${directive('thinking-tokens=100 tps=100 ping=250 tokens=2')}`,
          },
        ],
      }),
    });
    const events = [...(await response.text()).matchAll(/^event: (\w+)$/gm)].map(
      (match) => match[1],
    );
    const signatureAt = events.indexOf('content_block_delta');

    // 100 tokens at 100 a second: a second of thought; after the ping that follows the
    // block's start, one every 250 ms of it.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    expect(events.slice(0, signatureAt)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'ping',
      'ping',
      'ping',
    ]);
  });
});
