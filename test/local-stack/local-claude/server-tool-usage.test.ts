import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIRECTIVE_HEADER,
  type LocalClaude,
  startLocalClaude,
} from '../../../local-stack/local-claude/index.js';
import { directive } from './fixtures.js';

const MODEL = 'claude-opus-4-6';

describe('local Claude server tool usage', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  it('reports the web searches a directive asks for in the final usage', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: `News today? ${directive('web-searches=3')}` }],
    });

    expect(message.usage.server_tool_use).toEqual({
      web_search_requests: 3,
      web_fetch_requests: 0,
    });
  });

  it('reports them in message_delta when streaming, which finalMessage() keeps', async () => {
    const params = {
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'News today?' }],
    };
    const headers = { [DIRECTIVE_HEADER]: 'web-searches=2' };
    const raw = await client.messages.create({ ...params, stream: true }, { headers });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of raw) events.push(event);
    const final = await client.messages.stream(params, { headers }).finalMessage();

    const start = events.find((event) => event.type === 'message_start');
    expect(start?.type === 'message_start' && start.message.usage.server_tool_use).toBeFalsy();
    expect(events.at(-2)).toMatchObject({
      type: 'message_delta',
      usage: { server_tool_use: { web_search_requests: 2 } },
    });
    expect(final.usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
  });

  it('leaves server_tool_use out without the directive', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'Plain' }],
    });

    expect(message.usage.server_tool_use ?? null).toBeNull();
  });
});
