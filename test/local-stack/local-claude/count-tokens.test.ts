import Anthropic from '@anthropic-ai/sdk';
import type { MessageCountTokensParams, Usage } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { API_HEADERS, directive, TINY_PNG_BASE64, tinyPdf } from './fixtures.js';

const MODEL = 'claude-sonnet-4-6';
const totalInput = (usage: Usage) =>
  usage.input_tokens +
  (usage.cache_read_input_tokens ?? 0) +
  (usage.cache_creation_input_tokens ?? 0);

describe('local Claude token counting', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({
      timeToFirstTokenMs: 0,
      tokensPerSecond: 0,
      minCacheableTokens: 100,
    });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const prompt: MessageCountTokensParams = {
    model: MODEL,
    system: [
      { type: 'text', text: 'You are terse. '.repeat(40), cache_control: { type: 'ephemeral' } },
    ],
    tools: [
      {
        name: 'lookup',
        input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      },
    ],
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/png', data: TINY_PNG_BASE64 },
          },
          {
            type: 'document',
            source: {
              type: 'base64',
              media_type: 'application/pdf',
              data: tinyPdf().toString('base64'),
            },
          },
          { type: 'text', text: 'What do these show?' },
        ],
      },
      { role: 'assistant', content: 'A cat and a page.' },
      { role: 'user', content: 'Which is larger?' },
    ],
  };

  it('counts what /v1/messages reports as input, cache read and cache creation together', async () => {
    const counted = await client.messages.countTokens(prompt);
    const first = await client.messages.create({ ...prompt, max_tokens: 32 });
    const second = await client.messages.create({ ...prompt, max_tokens: 32 });

    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(counted.input_tokens).toBe(totalInput(first.usage));
    expect(counted.input_tokens).toBe(totalInput(second.usage));
    expect(counted.input_tokens).toBeGreaterThan(1600 + 1500);
  });

  it('neither reads nor writes the prompt cache', async () => {
    const fresh = {
      ...prompt,
      system: [
        {
          type: 'text' as const,
          text: 'Fresh. '.repeat(80),
          cache_control: { type: 'ephemeral' as const },
        },
      ],
    };

    await client.messages.countTokens(fresh);
    const created = await client.messages.create({ ...fresh, max_tokens: 8 });

    expect(created.usage.cache_read_input_tokens).toBe(0);
    expect(created.usage.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it('is recorded with its method and path', async () => {
    await client.messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(claude.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/messages/count_tokens',
      body: { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
    });
  });

  it('accepts thinking without max_tokens, but still checks the budget floor', async () => {
    const ok = await client.messages.countTokens({
      model: MODEL,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'abcd' }],
    });

    expect(ok.input_tokens).toBe(1);
    await expect(
      client.messages.countTokens({
        model: MODEL,
        thinking: { type: 'enabled', budget_tokens: 100 },
        messages: [{ role: 'user', content: 'abcd' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('fails with the error-before fault a directive asks for', async () => {
    const error = await client.messages
      .countTokens({
        model: MODEL,
        messages: [{ role: 'user', content: `hi ${directive('fault=error-before status=429')}` }],
      })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      (error as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after'),
    ).toBe('1');
  });

  it('reports the count an input-tokens directive gives', async () => {
    const counted = await client.messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: `hi ${directive('input-tokens=5000')}` }],
    });

    expect(counted.input_tokens).toBe(5000);
  });

  const post = (body: object) =>
    fetch(`${claude.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: API_HEADERS,
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

  it.each([
    ['max_tokens', { max_tokens: 16 }, 'max_tokens: Extra inputs are not permitted'],
    ['stream', { stream: true }, 'stream: Extra inputs are not permitted'],
    ['no messages', { messages: [] }, 'messages: at least one message is required'],
    [
      'a bad image',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA==' } },
            ],
          },
        ],
      },
      'messages.0.content.0.image.source.base64.media_type',
    ],
  ])('rejects %s with 400 like /v1/messages would', async (_case, body, message) => {
    const response = await post(body);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
    });
  });

  it('answers an unknown model with 404 not_found_error', async () => {
    const response = await post({ model: 'claude-unknown-9' });

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });
});
