import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { generateText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { usageFromWire } from '../../../shared/gateway/wire-usage.js';
import type { MonthUsage } from '../../../shared/ports/usage-ledger.js';
import { createApiKey } from '../support/api-keys.js';
import { bodyText } from '../support/claude-requests.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';
const prices = new PriceTable();
const month = () => monthOf(Date.now());

/** Budgets, rates and usage for /v1/messages: the same guarantees as /v1/chat. */
describe('/v1/messages governance', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;

  beforeAll(async () => {
    stack = await startTestStack({ env: { MESSAGES_STREAM_IDLE_TIMEOUT_MS: '1000' } });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack.close());

  it('has the SDK retry a 402 refused only for what calls in flight hold, and not one the budget refuses', async () => {
    // One call's worst case fits the key's budget, two do not; what one spends leaves room.
    const { key } = await createApiKey(stack, { principal: 'fan-out', monthlyBudgetUsd: 0.003 });
    const params = (text: string, maxTokens = 100) => ({
      model: MODEL,
      max_tokens: maxTokens,
      messages: [{ role: 'user' as const, content: `${text} [[local-claude: tokens=10]]` }],
    });
    const slow = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 }).messages.create({
      ...params('slow'),
      messages: [{ role: 'user', content: 'slow [[local-claude: ttft=1500]]' }],
    });
    // Its hold is in place once it is upstream (a fixed wait may be too short on a busy machine).
    await expect
      .poll(() => stack.claude.requests.some((r) => bodyText(r).includes('slow [[')))
      .toBe(true);

    const refused = await new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 }).messages
      .create(params('now'))
      .catch((error: APIError) => error);
    expect(refused).toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect((refused as APIError).headers?.get('x-should-retry')).toBe('true');
    const retried = new Anthropic({
      baseURL: stack.url,
      apiKey: key,
      maxRetries: 5,
    }).messages.create(params('soon'));
    await expect(slow).resolves.toMatchObject({ type: 'message' });
    await expect(retried).resolves.toMatchObject({ type: 'message' });

    const tooLarge = await new Anthropic({
      baseURL: stack.url,
      apiKey: key,
      maxRetries: 5,
    }).messages
      .create(params('never', 1_000))
      .catch((error: APIError) => error);
    expect(tooLarge).toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect((tooLarge as APIError).headers?.get('x-should-retry')).toBeNull();
  });

  it("reserves a document's context and a tool input shaped like an image as the text they are", async () => {
    const { id, key } = await createApiKey(stack, {
      principal: 'smuggler',
      monthlyBudgetUsd: 0.05,
    });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const pdf = Buffer.from('%PDF-1.4\n3 0 obj <</Type /Page>> endobj\n%%EOF').toString('base64');
    const bulk = 'word '.repeat(16_000);
    const calls = stack.claude.requests.length;

    const refusals = await Promise.allSettled([
      client.messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: pdf },
                context: bulk,
              },
              { type: 'text', text: 'summarize' },
            ],
          },
        ],
      }),
      client.messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: [
          { role: 'user', content: 'show it' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_1', name: 'show', input: { type: 'image', bulk } },
            ],
          },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }],
          },
        ],
        tools: [{ name: 'show', input_schema: { type: 'object' } }],
      }),
    ]);

    for (const refusal of refusals) {
      expect(refusal.status).toBe('rejected');
      expect((refusal as PromiseRejectedResult).reason).toBeInstanceOf(
        Anthropic.PaymentRequiredError,
      );
    }
    expect(stack.claude.requests.length).toBe(calls);
    expect((await ledger.keyMonth(id, month())).spentNanoUsd).toBe(0);
  });

  it('reserves a PDF a web fetch brought back by its pages when the conversation replays it (it was its base64 text: 20 pages held as 1)', async () => {
    const { id, key } = await createApiKey(stack, { principal: 'fetcher', monthlyBudgetUsd: 0.05 });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const pages = Array.from({ length: 20 }, (_, i) => `${i + 3} 0 obj <</Type /Page>> endobj`);
    const pdf = Buffer.from(`%PDF-1.4\n${pages.join('\n')}\n%%EOF`).toString('base64');
    const url = 'https://example.com/report.pdf';
    const calls = stack.claude.requests.length;

    const refusal = client.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [
        { role: 'user', content: `read ${url}` },
        {
          role: 'assistant',
          content: [
            { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_fetch', input: { url } },
            {
              type: 'web_fetch_tool_result',
              tool_use_id: 'srvtoolu_1',
              content: {
                type: 'web_fetch_result',
                url,
                content: {
                  type: 'document',
                  source: { type: 'base64', media_type: 'application/pdf', data: pdf },
                },
              },
            },
          ],
        },
        { role: 'user', content: 'summarize it' },
      ],
    });

    await expect(refusal).rejects.toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect(stack.claude.requests.length).toBe(calls);
    expect((await ledger.keyMonth(id, month())).spentNanoUsd).toBe(0);
  });

  it('charges cache writes and reads at their own prices, streamed or not', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('cacher') });
    const system = [
      {
        type: 'text' as const,
        text: 'You are a careful assistant. '.repeat(400),
        cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
      },
    ];
    const params = {
      model: MODEL,
      max_tokens: 50,
      system,
      messages: [{ role: 'user' as const, content: 'Use the cache [[local-claude: tokens=7]]' }],
    };

    const written = await client.messages.create(params);
    const read = await client.messages.stream(params).finalMessage();

    expect(written.usage.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    expect(read.usage.cache_read_input_tokens).toBeGreaterThan(0);
    const expected =
      prices.costNanoUsd(MODEL, usageFromWire(written.usage)) +
      prices.costNanoUsd(MODEL, usageFromWire(read.usage));
    const usage = await ledger.userMonth('cacher', month());
    expect(usage.spentNanoUsd).toBe(expected);
    expect(usage.cacheReadInputTokens).toBe(read.usage.cache_read_input_tokens);
  });

  it("bills 5-minute and 1-hour cache writes and reads at Sonnet 4.6's list prices, worked out by hand, from both SDKs", async () => {
    // Nano-dollars a token: $3 input, $15 output, $3.75 and $6 a 5-minute and a 1-hour write, $0.30 a read, a million.
    const NANO = { input: 3000, output: 15000, write5m: 3750, write1h: 6000, read: 300 };
    const byHand = (usage: Anthropic.Usage) =>
      usage.input_tokens * NANO.input +
      usage.output_tokens * NANO.output +
      (usage.cache_creation?.ephemeral_5m_input_tokens ?? 0) * NANO.write5m +
      (usage.cache_creation?.ephemeral_1h_input_tokens ?? 0) * NANO.write1h +
      (usage.cache_read_input_tokens ?? 0) * NANO.read;
    const { key } = await createApiKey(stack, { principal: 'hand-priced' });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const spentNanoUsd = async () => {
      const response = await fetch(`${stack.url}/v1/usage`, { headers: { 'x-api-key': key } });
      return Math.round(((await response.json()) as { costUsd: number }).costUsd * 1e9);
    };
    const system = [
      {
        type: 'text' as const,
        text: 'The house rules, at length. '.repeat(300),
        cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
      },
    ];
    const ask = (context: string, question: string) => ({
      model: MODEL,
      max_tokens: 50,
      system,
      messages: [
        {
          role: 'user' as const,
          content: [
            {
              type: 'text' as const,
              text: context.repeat(300),
              cache_control: { type: 'ephemeral' as const, ttl: '5m' as const },
            },
            { type: 'text' as const, text: `${question} [[local-claude: tokens=7]]` },
          ],
        },
      ],
    });
    const anthropic = createAnthropic({ baseURL: `${stack.url}/v1`, apiKey: key });

    const before = await spentNanoUsd();
    const writesBoth = await client.messages.create(ask('A long brief. ', 'one'));
    const afterFirst = await spentNanoUsd();
    const readsOneWritesOne = await client.messages
      .stream(ask('Another brief. ', 'two'))
      .finalMessage();
    const afterSecond = await spentNanoUsd();
    const bySdk = await generateText({
      model: anthropic(MODEL),
      maxOutputTokens: 50,
      system: {
        role: 'system',
        content: 'A third policy, cached an hour. '.repeat(200),
        providerOptions: { anthropic: { cacheControl: { type: 'ephemeral', ttl: '1h' } } },
      },
      prompt: 'three [[local-claude: tokens=4]]',
    });
    const afterThird = await spentNanoUsd();

    expect(writesBoth.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: expect.any(Number),
      ephemeral_1h_input_tokens: expect.any(Number),
    });
    expect(writesBoth.usage.cache_creation?.ephemeral_5m_input_tokens).toBeGreaterThan(0);
    expect(writesBoth.usage.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    expect(readsOneWritesOne.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(readsOneWritesOne.usage.cache_creation?.ephemeral_5m_input_tokens).toBeGreaterThan(0);
    const sdkUsage = bySdk.usage.raw as unknown as Anthropic.Usage;
    expect(sdkUsage.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    expect(afterFirst - before).toBe(byHand(writesBoth.usage));
    expect(afterSecond - afterFirst).toBe(byHand(readsOneWritesOne.usage));
    expect(afterThird - afterSecond).toBe(byHand(sdkUsage));
  });

  it('charges inference held to the US at 1.1 times the list price, streamed or not (it was charged at the list price)', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('resident') });
    const params = {
      model: MODEL,
      max_tokens: 50,
      inference_geo: 'us',
      messages: [{ role: 'user' as const, content: 'Stay home [[local-claude: tokens=9]]' }],
    };

    const answered = await client.messages.create(params);
    const streamed = await client.messages.stream(params).finalMessage();

    expect([answered.usage.inference_geo, streamed.usage.inference_geo]).toEqual(['us', 'us']);
    const listPrice = (usage: Anthropic.Usage) =>
      prices.costNanoUsd(MODEL, { ...usageFromWire(usage), inferenceGeo: 'global' });
    const spent = (await ledger.userMonth('resident', month())).spentNanoUsd;
    const regional = (usage: Anthropic.Usage) => Math.ceil((listPrice(usage) * 11) / 10);
    expect(spent).toBe(regional(answered.usage) + regional(streamed.usage));
  });

  it("holds a US-only call's worst case at 1.1 times the list price", async () => {
    // 60,000 output tokens at $15 per million: $0.90 at the list price, $0.99 held to the US.
    const { key } = await createApiKey(stack, { principal: 'resident-2', monthlyBudgetUsd: 0.95 });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const ask = (inference_geo: string) =>
      client.messages
        .stream({
          model: MODEL,
          max_tokens: 60_000,
          inference_geo,
          messages: [{ role: 'user', content: 'hi [[local-claude: tokens=1]]' }],
        })
        .finalMessage();

    await expect(ask('us')).rejects.toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect((await ask('global')).usage.output_tokens).toBe(1);
  });

  it("answers with Anthropic's rate-limit headers, from the tighter of the user's and the key's windows", async () => {
    const { key } = await createApiKey(stack, {
      principal: 'headers-user',
      requestsPerMinute: 5,
      tokensPerMinute: 100_000,
    });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key });
    const params = {
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user' as const, content: 'limits [[local-claude: tokens=2]]' }],
    };

    await awayFromMinuteEnd();
    const first = await client.messages.create(params).withResponse();
    const second = await client.messages.create(params).withResponse();

    const header = (name: string) => second.response.headers.get(`anthropic-ratelimit-${name}`);
    expect(first.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('4');
    expect(header('requests-limit')).toBe('5');
    expect(header('requests-remaining')).toBe('3');
    expect(Number(header('tokens-remaining'))).toBeLessThan(100_000);
    expect(Date.parse(header('requests-reset') ?? '')).toBeGreaterThan(Date.now());
    expect(second.response.headers.get('request-id')).toBe(second.request_id);
  });

  it('records one usage record per request, with the key, for the admin report', async () => {
    const { id, key } = await createApiKey(stack, { principal: 'reported' });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key });
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'report me [[local-claude: tokens=3]]' }],
    });

    const report = await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(
      month(),
      { top: 100 },
    );

    const row = report.byKey.find((totals) => totals.name === id);
    expect(row).toMatchObject({
      requests: 1,
      cacheHits: 0,
      outputTokens: 3,
      costNanoUsd: prices.costNanoUsd(MODEL, usageFromWire(message.usage)),
    });
    expect(report.byPrincipal.find((totals) => totals.name === 'reported')?.requests).toBe(1);
  });

  it('forwards every field and header it does not govern exactly as sent', async () => {
    const token = await stack.token('faithful');
    const client = new Anthropic({ baseURL: stack.url, apiKey: token });
    const params = {
      model: MODEL,
      max_tokens: 20,
      temperature: 0.3,
      top_k: 5,
      stop_sequences: ['never-appears'],
      metadata: { user_id: 'end-user-7' },
      speed: 'standard' as const,
      system: 'Be brief.',
      messages: [
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'first' }] },
        { role: 'assistant' as const, content: 'an answer' },
        { role: 'user' as const, content: 'second [[local-claude: tokens=2]]' },
      ],
    };

    await client.messages.create(params, {
      headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
    });

    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.body).toEqual(params);
    expect(upstream.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    // The deployment's Anthropic key goes upstream, never the caller's credential.
    expect(JSON.stringify(upstream.headers)).not.toContain(token);
  });

  it("takes a server tool's max_uses of null as no limit, as the SDK types it (it was a 400)", async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('unlimited') });

    const answer = await client.messages.create({
      model: MODEL,
      max_tokens: 20,
      tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: null }],
      messages: [{ role: 'user', content: 'hi [[local-claude: tokens=2]]' }],
    });

    expect(answer.usage.output_tokens).toBe(2);
    const { tools } = stack.claude.requests.at(-1)!.body as { tools: Array<{ max_uses: unknown }> };
    expect(tools[0]!.max_uses).toBeNull();
  });

  it('passes on what the upstream says of a field it does not know', async () => {
    const response = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('future')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
        a_future_parameter: true,
      }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('a_future_parameter'),
      },
    });
  });

  it('ends a stalled stream with an error event, stops upstream, and bills what was generated', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('stalled') });
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'stall [[local-claude: fault=stall after=3]]' }],
    });
    stream.on('error', () => {});

    const error = await stream.finalMessage().then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect((error as APIError).type).toBe('timeout_error');
    await expect.poll(() => stack.claude.requests.at(-1)?.aborted).toBe(true);
    const usage = await ledger.userMonth('stalled', month());
    expect(usage.requests).toBe(1);
    expect(usage.outputTokens).toBeGreaterThanOrEqual(3);
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });
});

/**
 * On a stack of its own, with the settings' timings: this file's one-second stream watchdog cut
 * racing streams on a loaded machine (the test and all 24 calls share one event loop here,
 * seen to lag over 2 s), as did the DynamoDB client's one-second connect timeout (a 503).
 */
describe('/v1/messages calls racing for one key budget', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;

  beforeAll(async () => {
    stack = await startTestStack();
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
  });
  afterAll(() => stack.close());

  it('never spends past a key budget, however many calls race for it', {
    timeout: 150_000,
  }, async () => {
    const budgetUsd = 0.005;
    const { id, key } = await createApiKey(stack, {
      principal: 'racer',
      monthlyBudgetUsd: budgetUsd,
    });
    // No retries: a 402 is final, so that every call races once for what the others hold.
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const call = (i: number) => {
      const params = {
        model: MODEL,
        max_tokens: 100,
        messages: [{ role: 'user' as const, content: `race ${i} [[local-claude: tokens=30]]` }],
      };
      return i % 2 === 0
        ? client.messages.create(params)
        : client.messages.stream(params).finalMessage();
    };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) => sentAgainIfUnavailable(() => call(i))),
    );

    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.filter(
      (outcome) =>
        outcome.status === 'rejected' && outcome.reason instanceof Anthropic.PaymentRequiredError,
    );
    expect(
      outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' && !refused.includes(outcome) ? [String(outcome.reason)] : [],
      ),
    ).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    expect((await ledger.keyMonth(id, month())).spentNanoUsd).toBeLessThanOrEqual(
      usdToNano(budgetUsd),
    );
    // A settle whose write failed keeps the call's worst case held until the sweep settles it.
    const spent = await settledMonth(() => ledger.keyMonth(id, month()));
    expect(spent.spentNanoUsd).toBeLessThanOrEqual(usdToNano(budgetUsd));
    expect(spent.heldNanoUsd).toBe(spent.spentNanoUsd);
    expect(spent.requests).toBe(succeeded.length);
    const charged = succeeded.reduce(
      (sum, outcome) =>
        sum +
        prices.costNanoUsd(
          MODEL,
          usageFromWire((outcome as PromiseFulfilledResult<Anthropic.Message>).value.usage),
        ),
      0,
    );
    expect(spent.spentNanoUsd).toBe(charged);
    expect((await settledMonth(() => ledger.userMonth('racer', month()))).spentNanoUsd).toBe(
      charged,
    );
  });

  /**
   * A 503 comes before anything is held or sent upstream (DynamoDB unreachable: here, a connect
   * the busy event loop saw too late); it is sent again, as the caller's SDK would.
   */
  async function sentAgainIfUnavailable<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof Anthropic.ServiceUnavailableError)) throw error;
        if (attempt === 5) throw error;
      }
    }
  }

  /**
   * The month once no hold is left on it: the sweep settles one whose settle was lost once it
   * expires, at the function's timeout (60 s).
   */
  async function settledMonth(read: () => Promise<MonthUsage>): Promise<MonthUsage> {
    await expect
      .poll(
        async () => {
          const usage = await read();
          if (usage.heldNanoUsd === usage.spentNanoUsd) return true;
          await stack.sweep();
          return false;
        },
        { timeout: 90_000, interval: 1_000 },
      )
      .toBe(true);
    return read();
  }
});

describe('/v1/messages answered whole, slower than an answer must start', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { FIRST_BYTE_TIMEOUT_MS: '1000', MODEL_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => stack.close());

  it('waits for a non-streamed answer that takes longer than the first-byte and model timeouts', async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('patient'),
      maxRetries: 0,
    });

    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'at length [[local-claude: tokens=60 tps=25]]' }],
    });

    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(60);
    expect(stack.claude.requests.at(-1)?.aborted).toBe(false);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    expect((await ledger.userMonth('patient', month())).spentNanoUsd).toBe(
      prices.costNanoUsd(MODEL, usageFromWire(message.usage)),
    );
  });
});

describe('/v1/messages near the function deadline', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ chatTimeoutMs: 4_000, env: { DEADLINE_MARGIN_MS: '1000' } });
  });
  afterAll(() => stack.close());

  it('ends the stream with timeout_error before the function is stopped, and bills what was generated', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('late') });
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 500,
      messages: [{ role: 'user', content: 'slowly [[local-claude: tokens=400 tps=50]]' }],
    });
    stream.on('error', () => {});
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });

    const error = await stream.finalMessage().then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect((error as APIError).type).toBe('timeout_error');
    expect(text.length).toBeGreaterThan(0);
    await expect.poll(() => stack.claude.requests.at(-1)?.aborted).toBe(true);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const usage = await ledger.userMonth('late', month());
    expect(usage.outputTokens).toBeGreaterThanOrEqual(text.trim().split(/\s+/).length);
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });

  it('answers a non-streamed call still unwritten at the deadline with timeout_error, and bills it as written to max_tokens', async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('late-whole'),
      maxRetries: 0,
    });

    const error = await client.messages
      .create({
        model: MODEL,
        max_tokens: 500,
        messages: [{ role: 'user', content: 'slowly [[local-claude: tokens=400 tps=50]]' }],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect((error as APIError).status).toBe(503);
    expect((error as APIError).type).toBe('timeout_error');
    await expect.poll(() => stack.claude.requests.at(-1)?.aborted).toBe(true);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const usage = await ledger.userMonth('late-whole', month());
    // Nothing says how far upstream got: the bound, never less.
    expect(usage.outputTokens).toBe(500);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.heldNanoUsd).toBe(usage.spentNanoUsd);
  });

  it("has the caller's SDK not send such a call again by itself: each would be billed as written to max_tokens (it was, three times)", async () => {
    // The SDK's own default, 2 retries.
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('late-again') });
    const calls = stack.claude.requests.length;

    const error = await client.messages
      .create({
        model: MODEL,
        max_tokens: 500,
        messages: [{ role: 'user', content: 'slowly again [[local-claude: tokens=400 tps=50]]' }],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect((error as APIError).type).toBe('timeout_error');
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    expect((error as Error).message).toMatch(/stream: true/);
    expect(stack.claude.requests.length - calls).toBe(1);
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const usage = await ledger.userMonth('late-again', month());
    expect(usage).toMatchObject({ requests: 1, outputTokens: 500 });
  });

  it('is sent again by the AI SDK, which does not read x-should-retry, each attempt billed; its maxRetries: 0 sends it once (README)', async () => {
    const anthropic = createAnthropic({
      baseURL: `${stack.url}/v1`,
      apiKey: await stack.token('late-ai-sdk'),
    });
    const ask = (maxRetries?: number) =>
      generateText({
        model: anthropic(MODEL),
        prompt: `slowly ${maxRetries} [[local-claude: tokens=400 tps=50]]`,
        maxOutputTokens: 500,
        ...(maxRetries !== undefined && { maxRetries }),
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);

    expect(await ask()).toBeInstanceOf(Error);
    const retried = await ledger.userMonth('late-ai-sdk', month());
    expect(await ask(0)).toBeInstanceOf(Error);
    const once = await ledger.userMonth('late-ai-sdk', month());

    expect(retried).toMatchObject({ requests: 3, outputTokens: 1500 });
    expect(once.requests - retried.requests).toBe(1);
  });

  it('bills such a call that asked to stay in the US at 1.1 times the list price, as it held', async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('late-resident'),
      maxRetries: 0,
    });

    const error = await client.messages
      .create({
        model: MODEL,
        max_tokens: 500,
        inference_geo: 'us',
        messages: [{ role: 'user', content: 'slowly [[local-claude: tokens=400 tps=50]]' }],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect((error as APIError).type).toBe('timeout_error');
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    const usage = await ledger.userMonth('late-resident', month());
    expect(usage.outputTokens).toBe(500);
    const listPrice = prices.costNanoUsd(MODEL, usage);
    expect(usage.spentNanoUsd).toBe(Math.ceil((listPrice * 11) / 10));
  });

  it('bills nothing for a non-streamed call cut while it waited to retry a refusal: nothing was being written', async () => {
    // A caller that does not retry itself (as curl): the gateway retries for it.
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('late-refused'),
      maxRetries: 0,
      defaultHeaders: { 'x-stainless-retry-count': null },
    });

    const error = await client.messages
      .create({
        model: MODEL,
        max_tokens: 500,
        messages: [
          {
            role: 'user',
            content: 'hi [[local-claude: fault=error-before status=529 retry-after=5]]',
          },
        ],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect((error as APIError).type).toBe('timeout_error');
    const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    expect(await ledger.userMonth('late-refused', month())).toMatchObject({
      heldNanoUsd: 0,
      spentNanoUsd: 0,
      outputTokens: 0,
    });
  });
});

describe("/v1/messages with a model's dated snapshot id (Claude Code's background calls)", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { ALLOWED_MODELS: 'claude-sonnet-4-6,claude-haiku-4-5' },
    });
  });
  afterAll(() => stack.close());

  it("takes the snapshot of an allowed model as that model, for the deployment and the key, and bills it as it; refuses another's", async () => {
    const { id, key } = await createApiKey(stack, {
      principal: 'background',
      allowedModels: ['claude-haiku-4-5'],
    });
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const ask = (model: string) =>
      client.messages.create({
        model,
        max_tokens: 50,
        messages: [{ role: 'user', content: 'A title for this chat [[local-claude: tokens=5]]' }],
      });

    const answered = await ask('claude-haiku-4-5-20251001');
    const keyOnly = await ask('claude-sonnet-4-6').catch((error: unknown) => error);
    const notAllowed = await ask('claude-opus-4-5-20251101').catch((error: unknown) => error);

    expect(stack.claude.requests.at(-1)?.body).toMatchObject({
      model: 'claude-haiku-4-5-20251001',
    });
    const spent = await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000).keyMonth(
      id,
      month(),
    );
    expect(spent.spentNanoUsd).toBe(
      prices.costNanoUsd('claude-haiku-4-5', usageFromWire(answered.usage)),
    );
    expect(keyOnly).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(notAllowed).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((notAllowed as Error).message).toMatch(/not available here/);
  });
});
