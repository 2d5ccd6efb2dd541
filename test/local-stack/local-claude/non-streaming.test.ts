import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';

const MODEL = 'claude-sonnet-4-6';

describe('local Claude without streaming', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const ask = (content: string, maxTokens = 1024) =>
    client.messages.create({
      model: MODEL,
      max_tokens: maxTokens,
      messages: [{ role: 'user', content }],
    });

  it('returns the whole Message with one text block, stop reason and usage', async () => {
    const message = await ask('Hello there, Claude');

    expect(message).toMatchObject({
      id: expect.stringMatching(/^msg_local_/),
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: expect.any(String) }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: expect.any(Number),
        output_tokens: 30,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('returns the same text and usage as the streamed reply to the same request', async () => {
    const message = await ask('Stream or not, same words');
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Stream or not, same words' }],
    });
    const streamed = await stream.finalMessage();

    expect(streamed.content).toEqual(message.content);
    expect(streamed.usage).toMatchObject({
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
    });
  });

  it('estimates input tokens from all the prompt text, the same text counting the same', async () => {
    const short = await ask('abcd');
    const again = await ask('abcd');
    const long = await ask('abcd'.repeat(100));
    const withSystem = await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      system: 'x'.repeat(400),
      messages: [{ role: 'user', content: 'abcd' }],
    });

    expect(short.usage.input_tokens).toBe(1);
    expect(again.usage.input_tokens).toBe(1);
    expect(long.usage.input_tokens).toBe(100);
    expect(withSystem.usage.input_tokens).toBe(101);
  });

  it('stops at max_tokens and records the output tokens sent', async () => {
    const message = await ask('Tell me everything', 4);

    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(4);
    expect(message.content[0]?.type === 'text' && message.content[0].text.split(' ')).toHaveLength(
      4,
    );
    expect(claude.requests.at(-1)?.outputTokensSent).toBe(4);
  });

  it('ends a reply with the stop reason a directive names, but a cut one at max_tokens', async () => {
    const full = await ask('Hi [[local-claude: stop-reason=model_context_window_exceeded]]');
    const cut = await ask('Hi [[local-claude: stop-reason=refusal tokens=20]]', 4);

    expect(full.stop_reason).toBe('model_context_window_exceeded');
    expect(cut.stop_reason).toBe('max_tokens');
    await expect(ask('Hi [[local-claude: stop-reason=tool_use]]')).rejects.toThrow(/stop-reason/);
  });

  it('records the request body and headers it received', async () => {
    await ask('Remember me');

    const recorded = claude.requests.at(-1)!;
    expect(recorded.body).toMatchObject({
      model: MODEL,
      messages: [{ role: 'user', content: 'Remember me' }],
    });
    expect(recorded.headers.authorization).toBe('Bearer test');
    expect(recorded.headers['anthropic-version']).toEqual(expect.any(String));
    expect(recorded.aborted).toBe(false);
  });
});
