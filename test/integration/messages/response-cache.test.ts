import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';

/** The exact-match response cache: a repeat is replayed byte for byte, for free. */
describe('/v1/messages response cache', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { RESPONSE_CACHE_TTL_SECONDS: '300', MESSAGES_STREAM_IDLE_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => stack.close());

  const post = (userId: string, body: unknown, headers: Record<string, string> = {}) =>
    postMessages(stack, userId, body, headers);

  it.each([true, false])(
    'replays a repeat identically without calling upstream (stream: %s)',
    async (stream) => {
      const body = question(`cache me ${stream}`, stream);
      const first = await post('cached-user', body);
      const upstreamCalls = stack.claude.requests.length;

      const second = await post('cached-user', body);

      expect(first.cache).toBe('miss');
      expect(second.cache).toBe('hit');
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(stack.claude.requests.length).toBe(upstreamCalls);
    },
  );

  it('charges nothing for a hit and counts it as a hit', async () => {
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const body = question('free the second time', false);
    await post('frugal', body);
    const afterMiss = await ledger.userMonth('frugal', monthOf(Date.now()));

    await post('frugal', body);

    const afterHit = await ledger.userMonth('frugal', monthOf(Date.now()));
    expect(afterHit.spentNanoUsd).toBe(afterMiss.spentNanoUsd);
    expect(afterHit.requests).toBe(afterMiss.requests);
    const report = await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(
      monthOf(Date.now()),
      { top: 100 },
    );
    expect(report.byPrincipal.find((row) => row.name === 'frugal')).toMatchObject({
      requests: 2,
      cacheHits: 1,
      costNanoUsd: afterMiss.spentNanoUsd,
    });
  });

  it("answers a hit with the caller's rate-limit headers, which it leaves as the miss did", async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('limits-hit') });
    const params = {
      model: MODEL,
      max_tokens: 30,
      messages: [{ role: 'user' as const, content: 'limits again [[local-claude: tokens=4]]' }],
    };
    await awayFromMinuteEnd();

    const miss = await client.messages.create(params).withResponse();
    const hit = await client.messages.create(params).withResponse();

    const remaining = (answer: typeof miss, name: string) =>
      answer.response.headers.get(`anthropic-ratelimit-${name}-remaining`);
    expect(hit.response.headers.get('x-cache')).toBe('hit');
    expect(Number(remaining(miss, 'requests'))).toBeGreaterThan(0);
    expect(remaining(hit, 'requests')).toBe(remaining(miss, 'requests'));
    expect(Number(remaining(hit, 'tokens'))).toBeGreaterThan(0);
    expect(hit.response.headers.get('anthropic-ratelimit-requests-reset')).toBe(
      miss.response.headers.get('anthropic-ratelimit-requests-reset'),
    );
  });

  it('serves a replay the official SDK reads like any answer', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('sdk-cache') });
    const params = {
      model: MODEL,
      max_tokens: 30,
      messages: [{ role: 'user' as const, content: 'same again [[local-claude: tokens=6]]' }],
    };

    const made = await client.messages.stream(params).finalMessage();
    const replayed = await client.messages.stream(params).finalMessage();

    expect(replayed).toEqual(made);
  });

  it('calls upstream when asked to bypass (no-store) or refresh (no-cache) it', async () => {
    const body = question('fresh please', false);
    await post('fresh-user', body);
    const before = stack.claude.requests.length;

    const bypass = await post('fresh-user', body, { 'cache-control': 'no-store' });
    const refresh = await post('fresh-user', body, { 'cache-control': 'no-cache' });
    const after = await post('fresh-user', body);

    expect([bypass.cache, refresh.cache, after.cache]).toEqual(['bypass', 'refresh', 'hit']);
    expect(stack.claude.requests.length).toBe(before + 2);
    expect(after.text).toBe(refresh.text);
    expect(after.text).not.toBe(bypass.text);
  });

  it('keeps each principal its own cache', async () => {
    const body = question('mine alone', false);
    await post('owner', body);

    const other = await post('someone-else', body);

    expect(other.cache).toBe('miss');
  });

  it('replays the answer to a repeated first chat question, and still stores the conversation', async () => {
    const body = { message: 'A first question worth caching [[local-claude: tokens=9]]' };
    const first = await stack.chat('chat-cacher', body);
    const firstText = await first.text();
    const upstreamCalls = stack.claude.requests.length;

    const second = await stack.chat('chat-cacher', body);
    const secondText = await second.text();

    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['miss', 'hit']);
    expect(stack.claude.requests.length).toBe(upstreamCalls);
    const answerOf = (sse: string) =>
      [...sse.matchAll(/^event: delta\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!).text).join('');
    expect(answerOf(secondText)).toBe(answerOf(firstText));
    expect(answerOf(secondText)).not.toBe('');
    const listed = await stack.request('chat-cacher', 'GET', '/v1/conversations');
    const { conversations } = (await listed.json()) as { conversations: unknown[] };
    expect(conversations).toHaveLength(2);
    // The replay held nothing, so it leaves nothing for the sweep to settle.
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const held = await ledger.listReservations();
    expect(held.filter((reservation) => reservation.userId === 'chat-cacher')).toEqual([]);
  });

  it('never caches an answer that broke off or failed', async () => {
    const stalled = question('partial [[local-claude: fault=stall after=2]]', true);
    const failed = question('failing [[local-claude: fault=error-mid after=2]]', true);
    const dropped = question('dropped [[local-claude: fault=drop after=2]]', true);
    const unended = question('unended [[local-claude: fault=end after=2]]', true);
    const refused = question('refused [[local-claude: fault=error-first]]', true);
    // Relayed whole, but with an event no SDK can read: every replay would fail the same way.
    const garbled = question('garbled [[local-claude: fault=garble after=2]]', true);
    for (const body of [stalled, failed, dropped, unended, refused, garbled]) {
      await post('unlucky', body);
      const before = stack.claude.requests.length;

      const again = await post('unlucky', body);

      expect(again.cache).toBe('miss');
      expect(stack.claude.requests.length).toBeGreaterThan(before);
    }
  });
});

describe('/v1/messages response cache shared by the deployment', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { RESPONSE_CACHE_TTL_SECONDS: '300', RESPONSE_CACHE_SCOPE: 'deployment' },
    });
  });
  afterAll(() => stack.close());

  it('replays an answer to anyone asking the same', async () => {
    const body = question('shared by all', false);
    await postMessages(stack, 'first-asker', body);

    const other = await postMessages(stack, 'second-asker', body);

    expect(other.cache).toBe('hit');
  });

  it('never replays to another principal an answer that may name a code execution container', async () => {
    // A container's id, and its files' ids, are access to it across the organization.
    const withTool = {
      ...question('run this code', false),
      tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
    };
    const withContainer = { ...question('in my container', false), container: 'container_abc' };
    for (const body of [withTool, withContainer]) {
      const mine = await postMessages(stack, 'container-owner', body);
      const again = await postMessages(stack, 'container-owner', body);

      const other = await postMessages(stack, 'container-stranger', body);

      expect([mine.status, mine.cache, again.cache]).toEqual([200, 'miss', 'hit']);
      expect(other.cache).toBe('miss');
    }
  });

  it('sends numbers upstream as written, and tells apart requests that differ past 2^53 (parsed, they were one)', async () => {
    // A 64-bit id Claude put in a tool call comes back in the history, as a Python client keeps it.
    const withToolCall = (id: string) =>
      `{"model":"${MODEL}","max_tokens":40,"messages":[` +
      '{"role":"user","content":"find the order [[local-claude: tokens=12]]"},' +
      `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"order","input":{"id":${id},"ratio":1.0,"limit":1e400}}]},` +
      '{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"shipped"}]}]}';
    const sent = (marker: string) =>
      stack.claude.requests.filter((request) => request.rawBody.includes(marker));

    const first = await postMessages(stack, 'exact', withToolCall('12345678901234567891'));
    const other = await postMessages(stack, 'exact', withToolCall('12345678901234567892'));
    const repeat = await postMessages(stack, 'exact', withToolCall('12345678901234567891'));
    const counted = await fetch(`${stack.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('exact')}`,
        'content-type': 'application/json',
      },
      body: withToolCall('12345678901234567893').replace('"max_tokens":40,', ''),
    });

    expect([first.status, other.status, repeat.status, counted.status]).toEqual([
      200, 200, 200, 200,
    ]);
    expect([first.cache, other.cache, repeat.cache]).toEqual(['miss', 'miss', 'hit']);
    for (const id of ['12345678901234567891', '12345678901234567892', '12345678901234567893']) {
      expect(sent(`"input":{"id":${id},"ratio":1.0,"limit":1e400}`)).toHaveLength(1);
    }
  });
});

const question = (text: string, stream: boolean) => ({
  model: MODEL,
  max_tokens: 40,
  stream,
  messages: [{ role: 'user', content: `${text} [[local-claude: tokens=12]]` }],
});

/** `body` as a string is sent as it is. */
async function postMessages(
  stack: TestStack,
  userId: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.token(userId)}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    text: await response.text(),
  };
}
