import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { generateText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/test-stack.js';

const APP_ORIGIN = 'https://app.example.com';

/**
 * Request headers a browser sends without asking first (the Fetch standard's CORS-safelisted
 * ones, `content-type` aside: application/json is not safelisted), or sets itself.
 */
const NOT_ASKED_FOR = new Set([
  'accept',
  'accept-language',
  'content-language',
  'accept-encoding',
  'connection',
  'content-length',
  'host',
]);

/** The names of the headers `call` sends, as a browser's preflight would ask for them. */
async function headersSentBy(call: (fetch: typeof globalThis.fetch) => Promise<unknown>) {
  const names = new Set<string>();
  await call(async (input, init) => {
    for (const name of new Headers(init?.headers).keys()) names.add(name);
    return fetch(input, init);
  });
  return [...names].filter((name) => !NOT_ASKED_FOR.has(name)).sort();
}

describe('a browser app calling /v1/messages through the SDKs, on an allowed origin', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack({ corsAllowedOrigins: [APP_ORIGIN] });
    token = await stack.token('cors-sdk');
  });
  afterAll(() => stack.close());

  const preflight = (names: readonly string[]) =>
    fetch(`${stack.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': names.join(','),
      },
    });

  const allowedBy = (response: Response) =>
    (response.headers.get('access-control-allow-headers') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase());

  it('is allowed every header the Anthropic SDK sends from a browser (Firefox sends user-agent)', async () => {
    const names = await headersSentBy((fetch) =>
      new Anthropic({
        apiKey: token,
        baseURL: stack.url,
        dangerouslyAllowBrowser: true,
        fetch,
      }).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi [[local-claude: tokens=2]]' }],
      }),
    );

    const response = await preflight(names);

    expect(names).toContain('user-agent');
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowedBy(response)).toEqual(expect.arrayContaining(names));
  });

  it('is allowed every header @ai-sdk/anthropic sends from a browser', async () => {
    const names = await headersSentBy((fetch) =>
      generateText({
        model: createAnthropic({ baseURL: `${stack.url}/v1`, apiKey: token, fetch })(
          'claude-sonnet-4-6',
        ),
        prompt: 'hi [[local-claude: tokens=2]]',
        maxOutputTokens: 10,
      }),
    );

    const response = await preflight(names);

    expect(allowedBy(response)).toEqual(expect.arrayContaining(names));
  });
});
