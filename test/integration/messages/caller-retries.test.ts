import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestsMentioning } from '../support/claude-requests.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';
const MODEL_MAX_RETRIES = 2;
const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * A caller's client that retries by itself (the official SDKs, Claude Code's, the AI SDK) gets
 * one upstream attempt per attempt of its own, so that its `maxRetries` is what it gets, as
 * with the API direct; the deployment's `modelMaxRetries` serve callers that do not retry.
 */
describe('/v1/messages retries, counted at the upstream', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ env: { MODEL_MAX_RETRIES: String(MODEL_MAX_RETRIES) } });
  });
  afterAll(() => stack.close());

  const sdk = async (principal: string, maxRetries: number) =>
    new Anthropic({ baseURL: stack.url, apiKey: await stack.token(principal), maxRetries });
  const ask = (text: string) => ({
    model: MODEL,
    max_tokens: 20,
    messages: [{ role: 'user' as const, content: text }],
  });
  const upstreamCalls = (marker: string) => requestsMentioning(stack.claude, marker).length;
  const caught = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );
  const plainFetch = async (principal: string, body: object) =>
    fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token(principal)}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify(body),
    });

  it.each([2, 0])(
    "sends an overloaded call upstream as often as the official SDK's maxRetries %i says, not that times the gateway's",
    async (maxRetries) => {
      const marker = `key=sdk-529-${maxRetries}`;
      const client = await sdk(`sdk-529-${maxRetries}`, maxRetries);

      const error = await caught(
        client.messages.create(ask(`hi ${directive(`fault=error-before status=529 ${marker}`)}`)),
      );

      expect(error).toMatchObject({ status: 529, type: 'overloaded_error' });
      expect(upstreamCalls(marker)).toBe(maxRetries + 1);
    },
  );

  it.each([2, 0])(
    'answers a stream the API refused with its first event with the 529 the official SDK retries, as often as its maxRetries %i says',
    async (maxRetries) => {
      const marker = `key=sdk-first-${maxRetries}`;
      const client = await sdk(`sdk-first-${maxRetries}`, maxRetries);
      const stream = client.messages.stream(ask(`hi ${directive(`fault=error-first ${marker}`)}`));
      stream.on('error', () => {});

      const error = await caught(stream.finalMessage());

      expect(error).toBeInstanceOf(Anthropic.InternalServerError);
      expect(error).toMatchObject({ status: 529, type: 'overloaded_error' });
      expect(upstreamCalls(marker)).toBe(maxRetries + 1);
    },
  );

  it("gives the official SDK's stream the answer once its own retry outlasts a refusal sent as the first event", async () => {
    const marker = 'key=sdk-first-once';
    const stream = (await sdk('sdk-first-once', 2)).messages.stream(
      ask(`hi ${directive(`fault=error-first times=1 tokens=3 ${marker}`)}`),
    );

    const message = await stream.finalMessage();

    expect(message.stop_reason).toBe('end_turn');
    expect(upstreamCalls(marker)).toBe(2);
  });

  it("sends an overloaded call upstream as often as the AI SDK's maxRetries says, generateText or streamText", async () => {
    const anthropic = createAnthropic({
      baseURL: `${stack.url}/v1`,
      apiKey: await stack.token('ai-sdk-529'),
    });
    for (const maxRetries of [1, 0]) {
      const generated = `key=ai-generate-529-${maxRetries}`;
      const streamed = `key=ai-stream-529-${maxRetries}`;
      const overloaded = (marker: string) => ({
        model: anthropic(MODEL),
        prompt: `hi ${directive(`fault=error-before status=529 ${marker}`)}`,
        maxOutputTokens: 20,
        maxRetries,
      });
      const streamErrors: unknown[] = [];

      const generateError = await caught(generateText(overloaded(generated)));
      const stream = streamText({
        ...overloaded(streamed),
        onError: ({ error }) => {
          streamErrors.push(error);
        },
      });
      for await (const _ of stream.fullStream) {
        // read to the end
      }

      expect(generateError, String(maxRetries)).toBeDefined();
      expect(streamErrors, String(maxRetries)).not.toEqual([]);
      expect(upstreamCalls(generated), String(maxRetries)).toBe(maxRetries + 1);
      expect(upstreamCalls(streamed), String(maxRetries)).toBe(maxRetries + 1);
    }
  });

  it("retries for a caller that does not retry itself (plain fetch): modelMaxRetries, an error response or a stream's first event", async () => {
    const overloaded = await plainFetch('fetch-529', {
      ...ask(`hi ${directive('fault=error-before status=529 key=fetch-529')}`),
    });
    const refused = await plainFetch('fetch-first', {
      ...ask(`hi ${directive('fault=error-first key=fetch-first')}`),
      stream: true,
    });
    const refusedEvents = await refused.text();

    expect(overloaded.status).toBe(529);
    expect(upstreamCalls('key=fetch-529')).toBe(MODEL_MAX_RETRIES + 1);
    // Still refused after the retries: passed on as the API sent it, a 200 with that one event.
    expect(refused.status).toBe(200);
    expect(refusedEvents).toMatch(/^event: error\n/);
    expect(upstreamCalls('key=fetch-first')).toBe(MODEL_MAX_RETRIES + 1);
  });

  it('still obeys x-should-retry: false for the official SDK, which asks upstream once', async () => {
    const marker = 'key=sdk-no-retry';
    const error = await caught(
      (await sdk('sdk-no-retry', 2)).messages.create(
        ask(`hi ${directive(`fault=error-before status=500 should-retry=false ${marker}`)}`),
      ),
    );

    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    expect(upstreamCalls(marker)).toBe(1);
  });

  it("counts tokens upstream once per attempt of the official SDK's", async () => {
    const marker = 'key=count-529';
    const error = await caught(
      (await sdk('count-529', 1)).messages.countTokens({
        model: MODEL,
        messages: [
          { role: 'user', content: `hi ${directive(`fault=error-before status=529 ${marker}`)}` },
        ],
      }),
    );

    expect(error).toMatchObject({ status: 529 });
    expect(upstreamCalls(marker)).toBe(2);
  });
});
