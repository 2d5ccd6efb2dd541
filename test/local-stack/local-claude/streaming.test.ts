import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';

const MODEL = 'claude-haiku-4-5';

describe('local Claude streaming', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  async function streamEvents(content: string, maxTokens = 1024): Promise<RawMessageStreamEvent[]> {
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: maxTokens,
      stream: true,
      messages: [{ role: 'user', content }],
    });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    return events;
  }

  const textOf = (events: RawMessageStreamEvent[]) =>
    events
      .map((event) =>
        event.type === 'content_block_delta' && event.delta.type === 'text_delta'
          ? event.delta.text
          : '',
      )
      .join('');

  it('sends the documented event order, one text delta per token', async () => {
    const events = await streamEvents('Hello there, Claude');

    const types = events.map((event) => event.type);
    const deltas = types.filter((type) => type === 'content_block_delta').length;
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      ...Array(deltas).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(deltas).toBe(30);
  });

  it('answers headers at once and message_start with the first token, after the time to first token', async () => {
    const started = performance.now();
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      stream: true,
      messages: [{ role: 'user', content: 'Hello [[local-claude: ttft=300]]' }],
    });
    const headersMs = performance.now() - started;
    const arrivals: Array<[string, number]> = [];
    for await (const event of stream) arrivals.push([event.type, performance.now() - started]);

    expect(headersMs).toBeLessThan(300);
    const at = (type: string) => arrivals.find(([t]) => t === type)![1];
    expect(at('message_start')).toBeGreaterThanOrEqual(300);
    // The first delta comes with it (tps 0 here: no pacing between tokens).
    expect(at('content_block_delta') - at('message_start')).toBeLessThan(100);
  });

  it('starts with an empty assistant message and its input usage', async () => {
    const [start] = await streamEvents('Hello there, Claude');

    expect(start).toMatchObject({
      type: 'message_start',
      message: {
        id: expect.stringMatching(/^msg_local_/),
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: expect.any(Number),
          output_tokens: 1,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
  });

  it('ends with end_turn and output tokens equal to the deltas sent', async () => {
    const events = await streamEvents('Hello there, Claude');

    const deltas = events.filter((event) => event.type === 'content_block_delta');
    expect(events.at(-2)).toMatchObject({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: deltas.length },
    });
  });

  it('gives the same text to the same request and another text to another one', async () => {
    const first = textOf(await streamEvents('What is the capital of France?'));
    const again = textOf(await streamEvents('What is the capital of France?'));
    const other = textOf(await streamEvents('And of Italy?'));

    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('makes each token a word with its leading space', async () => {
    const events = await streamEvents('Tell me a story');

    const texts = events.flatMap((event) =>
      event.type === 'content_block_delta' && event.delta.type === 'text_delta'
        ? [event.delta.text]
        : [],
    );
    expect(texts[0]).toMatch(/^\S+$/);
    for (const text of texts.slice(1)) expect(text).toMatch(/^ \S+$/);
  });

  it('stops at max_tokens with stop_reason max_tokens, cutting the full reply', async () => {
    const full = textOf(await streamEvents('Tell me a long story'));
    const events = await streamEvents('Tell me a long story', 5);

    expect(full.startsWith(textOf(events))).toBe(true);

    expect(events.filter((event) => event.type === 'content_block_delta')).toHaveLength(5);
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'max_tokens' },
      usage: { output_tokens: 5 },
    });
  });

  it('answers with the length a tokens directive asks for', async () => {
    const events = await streamEvents('Count [[local-claude: tokens=7]]');

    expect(events.filter((event) => event.type === 'content_block_delta')).toHaveLength(7);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });

  it('echoes the first eight words of the last user message when asked', async () => {
    const events = await streamEvents(
      'one two three four five six seven eight nine ten [[local-claude: reply=echo]]',
    );

    expect(textOf(events)).toMatch(/^Echo: one two three four five six seven eight(?! nine)/);
  });

  it('stops before a stop sequence and names it', async () => {
    const text = textOf(await streamEvents('Say something'));
    const sequence = text.split(' ')[3]!;

    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      stream: true,
      stop_sequences: [` ${sequence}`],
      messages: [{ role: 'user', content: 'Say something' }],
    });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(textOf(events)).toBe(text.slice(0, text.indexOf(` ${sequence}`)));
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'stop_sequence', stop_sequence: ` ${sequence}` },
    });
  });

  it('frames each event as event and data lines, with a ping after content_block_start', async () => {
    const response = await fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': 'test',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 3,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const raw = await response.text();

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = raw.split('\n\n').filter(Boolean);
    for (const frame of frames) expect(frame).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/);
    expect(frames.map((frame) => frame.slice('event: '.length, frame.indexOf('\n')))).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('exposes a req_local_ request id on the stream response', async () => {
    const { response } = await client.messages
      .create({
        model: MODEL,
        max_tokens: 3,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .withResponse();

    expect(response.headers.get('request-id')).toMatch(/^req_local_[0-9a-f]+$/);
    expect(claude.requests.map((request) => request.requestId)).toContain(
      response.headers.get('request-id'),
    );
    await response.body?.cancel();
  });
});
