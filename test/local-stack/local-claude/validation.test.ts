import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';

const MODEL = 'claude-haiku-4-5';
const VALID = { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
const HEADERS = {
  'x-api-key': 'test',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
};

describe('local Claude request checks', () => {
  let claude: LocalClaude;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
  });
  afterAll(() => claude.close());

  const post = (body: unknown, headers: Record<string, string> = HEADERS, path = '/v1/messages') =>
    fetch(`${claude.url}${path}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it.each([
    ['no model', { ...VALID, model: undefined }, 'model: Field required'],
    ['a model that is not a string', { ...VALID, model: 4 }, 'model:'],
    ['no max_tokens', { ...VALID, max_tokens: undefined }, 'max_tokens: Field required'],
    ['a negative max_tokens', { ...VALID, max_tokens: -1 }, 'max_tokens:'],
    ['a fractional max_tokens', { ...VALID, max_tokens: 1.5 }, 'max_tokens:'],
    ['max_tokens as a string', { ...VALID, max_tokens: '16' }, 'max_tokens:'],
    [
      'max_tokens above the model limit',
      { ...VALID, max_tokens: 1_000_000 },
      'max_tokens: 1000000 > 64000',
    ],
    ['no messages', { ...VALID, messages: [] }, 'messages: at least one message is required'],
    ['messages that are not an array', { ...VALID, messages: 'hi' }, 'messages:'],
    [
      'an unknown role in messages',
      { ...VALID, messages: [{ role: 'tool', content: 'hi' }] },
      'messages.0.role',
    ],
    [
      'content that is a number',
      { ...VALID, messages: [{ role: 'user', content: 42 }] },
      'messages.0.content',
    ],
    [
      'empty user content',
      { ...VALID, messages: [{ role: 'user', content: '' }] },
      'non-empty content',
    ],
    [
      'an empty text block',
      { ...VALID, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] },
      'text content blocks must be non-empty',
    ],
    [
      'a system text block of whitespace only',
      { ...VALID, system: [{ type: 'text', text: ' ' }] },
      'system: text content blocks must contain non-whitespace text',
    ],
    [
      'a text block of whitespace only',
      {
        ...VALID,
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: [{ type: 'text', text: '\n\n' }] },
          { role: 'user', content: 'Are you back?' },
        ],
      },
      'text content blocks must contain non-whitespace text',
    ],
    [
      'a text block without text',
      { ...VALID, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages.0.content.0.text: Field required',
    ],
    ['a system that is a number', { ...VALID, system: 7 }, 'system:'],
    ['an unknown field', { ...VALID, maxTokens: 16 }, 'maxTokens: Extra inputs are not permitted'],
    [
      'an unknown cache_control type',
      {
        ...VALID,
        system: [{ type: 'text', text: 'be brief', cache_control: { type: 'persistent' } }],
      },
      'system.0.cache_control',
    ],
    [
      'a final assistant message ending with whitespace',
      { ...VALID, messages: [...VALID.messages, { role: 'assistant', content: 'The answer is ' }] },
      'final assistant content cannot end with trailing whitespace',
    ],
    ['a body that is not JSON', '{"model": ', 'There was an error parsing the body'],
    ['a body that is not an object', [1, 2], 'Invalid input'],
    [
      'half an emoji (a lone high surrogate)',
      { ...VALID, messages: [{ role: 'user', content: `cut ${'😀'.slice(0, 1)}` }] },
      'The request body is not valid JSON: no low surrogate in string',
    ],
    [
      'a lone low surrogate',
      { ...VALID, messages: [{ role: 'user', content: `cut ${'😀'.slice(1)}` }] },
      'The request body is not valid JSON: invalid high surrogate in string',
    ],
  ])('rejects %s with 400 invalid_request_error', async (_case, body, message) => {
    const response = await post(body);

    expect(response.status).toBe(400);
    const json = await response.json();
    expect(json).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
      request_id: response.headers.get('request-id'),
    });
  });

  it('accepts emoji, escaped as surrogate pairs or not, and a backslash before a u', async () => {
    const text = '😀 \\ud83d';
    const escaped = JSON.stringify({ ...VALID, messages: [{ role: 'user', content: text }] });
    const pairs = escaped.replace('😀', '\\ud83d\\ude00');

    for (const body of [escaped, pairs]) expect((await post(body)).status, body).toBe(200);
  });

  it('accepts consecutive messages with the same role, as the API merges them', async () => {
    const response = await post({
      ...VALID,
      messages: [
        { role: 'user', content: 'first' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
      ],
    });

    expect(response.status).toBe(200);
  });

  it('accepts a system message after the question without a beta, as Claude Code sends claude-opus-4-8 one (it was a 400)', async () => {
    // Claude Code 2.1.328 sends [user, system] with betas that do not include
    // mid-conversation-system-2026-04-07: system messages are part of the API since Opus 4.8.
    const response = await post(
      {
        ...VALID,
        messages: [
          { role: 'user', content: 'Read it' },
          { role: 'system', content: [{ type: 'text', text: 'Today is Tuesday.' }] },
        ],
      },
      {
        ...HEADERS,
        'anthropic-beta':
          'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24',
      },
    );

    expect(response.status).toBe(200);
  });

  it('accepts a system message between turns with the mid-conversation-system beta', async () => {
    const response = await post(
      {
        ...VALID,
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'an answer' },
          { role: 'system', content: 'Answer briefly from now on.' },
          { role: 'user', content: 'second' },
        ],
      },
      { ...HEADERS, 'anthropic-beta': 'mid-conversation-system-2026-04-07' },
    );

    expect(response.status).toBe(200);
  });

  it('accepts a final assistant message as a prefill, and non-text blocks', async () => {
    const response = await post({
      ...VALID,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }],
        },
        { role: 'assistant', content: 'The picture shows' },
      ],
    });

    expect(response.status).toBe(200);
  });

  it('answers an unknown model with 404 not_found_error', async () => {
    const response = await post({ ...VALID, model: 'claude-unknown-9' });

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { type: 'not_found_error', message: 'model: claude-unknown-9' },
    });
  });

  it('accepts the models it is given instead of the defaults', async () => {
    const custom = await startLocalClaude({ models: ['claude-test-1'], timeToFirstTokenMs: 0 });
    try {
      const client = new Anthropic({ baseURL: custom.url, apiKey: 'test', maxRetries: 0 });

      const message = await client.messages.create({
        ...VALID,
        model: 'claude-test-1',
        messages: [{ role: 'user', content: 'hi' }],
      });

      expect(message.model).toBe('claude-test-1');
      await expect(
        client.messages.create({ ...VALID, messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    } finally {
      await custom.close();
    }
  });

  it('answers 401 authentication_error without x-api-key or a bearer token', async () => {
    const response = await post(VALID, {
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
  });

  it('accepts the bearer token the SDK sends as well as x-api-key', async () => {
    const client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });

    const message = await client.messages.create({
      ...VALID,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const withApiKey = await post(VALID);

    expect(claude.requests.at(-2)?.headers.authorization).toBe('Bearer test');
    expect(message.type).toBe('message');
    expect(withApiKey.status).toBe(200);
  });

  it('requires the anthropic-version header like the API', async () => {
    const response = await post(VALID, { 'x-api-key': 'test', 'content-type': 'application/json' });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
  });

  it('answers unknown routes with 404 not_found_error and a request id', async () => {
    const response = await post(VALID, HEADERS, '/v1/complete');
    const get = await fetch(`${claude.url}/v1/messages`);

    expect(response.status).toBe(404);
    expect(response.headers.get('request-id')).toMatch(/^req_local_/);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
    expect(get.status).toBe(404);
  });

  it('gives every response its own request id', async () => {
    const ids = await Promise.all(
      [post(VALID), post({}), post(VALID)].map(async (response) =>
        (await response).headers.get('request-id'),
      ),
    );

    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^req_local_[0-9a-f]{24}$/);
  });

  it('surfaces a 400 as the SDK BadRequestError', async () => {
    const client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });

    await expect(
      client.messages.create({ model: MODEL, max_tokens: 16, messages: [] }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});
