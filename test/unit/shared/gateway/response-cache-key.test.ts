import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, responseCacheKey } from '../../../../shared/gateway/response-cache-key.js';

type Input = Parameters<typeof responseCacheKey>[0];
type Request = Record<string, unknown>;

function messagesRequest(): Request {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1_024,
    system: [{ type: 'text', text: 'Answer tersely.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: 'What is the weather in Zürich?' },
      { role: 'assistant', content: 'Let me check.' },
      { role: 'user', content: [{ type: 'text', text: 'Thanks 🙂' }] },
    ],
    tools: [
      {
        name: 'get_weather',
        description: 'Current weather of a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ],
    tool_choice: { type: 'auto' },
    thinking: { type: 'enabled', budget_tokens: 2_048 },
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ['\n\nUser:'],
    stream: true,
    metadata: { user_id: 'end-user-1' },
  };
}

function input(overrides: Partial<Input> = {}): Input {
  return {
    scope: 'user:u-123',
    api: 'messages',
    request: messagesRequest(),
    betas: ['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07'],
    anthropicVersion: '2023-06-01',
    ...overrides,
  };
}

const withRequest = (change: (request: Request) => void): Input => {
  const request = messagesRequest();
  change(request);
  return input({ request });
};

/** Every object of a JSON value rebuilt with its keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([name, member]) => [name, reverseKeys(member)]),
  );
}

describe('responseCacheKey', () => {
  it('is a hex SHA-256', () => {
    expect(responseCacheKey(input())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same key to the same request with its keys in another order', () => {
    expect(responseCacheKey(input({ request: reverseKeys(messagesRequest()) }))).toBe(
      responseCacheKey(input()),
    );
  });

  it.each<[string, Input]>([
    ['model', withRequest((r) => (r.model = 'claude-opus-4-1'))],
    ['system', withRequest((r) => (r.system = 'Answer at length.'))],
    [
      'cache_control in system',
      withRequest((r) => ((r.system as Request[])[0]!.cache_control = undefined)),
    ],
    ['a message', withRequest((r) => ((r.messages as Request[])[0]!.content = 'And in Bern?'))],
    ['the order of messages', withRequest((r) => (r.messages as unknown[]).reverse())],
    [
      'a message added',
      withRequest((r) => (r.messages as unknown[]).push({ role: 'assistant', content: '' })),
    ],
    ['tools', withRequest((r) => (r.tools = []))],
    [
      'a tool input schema',
      withRequest(
        (r) => ((r.tools as Request[])[0]!.input_schema = { type: 'object', properties: {} }),
      ),
    ],
    ['tool_choice', withRequest((r) => (r.tool_choice = { type: 'tool', name: 'get_weather' }))],
    ['thinking', withRequest((r) => (r.thinking = { type: 'enabled', budget_tokens: 4_096 }))],
    ['temperature', withRequest((r) => (r.temperature = 0.3))],
    ['top_p', withRequest((r) => (r.top_p = 0.95))],
    ['top_k', withRequest((r) => (r.top_k = 41))],
    ['max_tokens', withRequest((r) => (r.max_tokens = 1_025))],
    ['stop_sequences', withRequest((r) => (r.stop_sequences = ['\n\nHuman:']))],
    ['stream', withRequest((r) => (r.stream = false))],
    ['stream left out', withRequest((r) => delete r.stream)],
    ['a beta added', input({ betas: [...input().betas, 'token-efficient-tools-2025-02-19'] })],
    ['no betas', input({ betas: [] })],
    ['scope', input({ scope: 'user:u-124' })],
    ['api', input({ api: 'chat' })],
    ['anthropic version', input({ anthropicVersion: '2023-01-01' })],
    ['no anthropic version', input({ anthropicVersion: undefined })],
  ])('gives another key when %s changes', (_, changed) => {
    expect(responseCacheKey(changed)).not.toBe(responseCacheKey(input()));
  });

  it('gives the same key whatever the metadata says, or without it', () => {
    const otherUser = withRequest((r) => (r.metadata = { user_id: 'end-user-2' }));
    const noMetadata = withRequest((r) => delete r.metadata);

    expect(responseCacheKey(otherUser)).toBe(responseCacheKey(input()));
    expect(responseCacheKey(noMetadata)).toBe(responseCacheKey(input()));
  });

  it('keeps metadata nested below the top level in the key', () => {
    const nested = withRequest(
      (r) => ((r.messages as Request[])[0]!.metadata = { note: 'shapes the prompt' }),
    );

    expect(responseCacheKey(nested)).not.toBe(responseCacheKey(input()));
  });

  it('reads betas as a set: order and duplicates do not matter', () => {
    const [a, b] = input().betas;

    expect(responseCacheKey(input({ betas: [b!, a!, b!, a!] }))).toBe(responseCacheKey(input()));
  });

  it('cannot be confused by a scope that looks like other fields', () => {
    const a = input({ scope: 'a', api: 'chat' });
    const b = input({ scope: 'a","api":"chat', api: 'messages' });

    expect(responseCacheKey(a)).not.toBe(responseCacheKey(b));
  });
});

describe('canonicalJson', () => {
  it('sorts the keys of nested objects and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });

  it('drops undefined members and writes undefined array entries as null, as JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
  });

  it('says the same as JSON.stringify of any JSON value, keys in any order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalJson(value);
        expect(JSON.parse(canonical)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reverseKeys(value))).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });
});
