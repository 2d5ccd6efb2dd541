import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
