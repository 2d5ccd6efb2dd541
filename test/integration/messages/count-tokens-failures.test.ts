import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';
const FIRST_BYTE_TIMEOUT_MS = 1000;
const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * POST /v1/messages/count_tokens when the Anthropic API's count cannot be read or does not
 * come, read by the official SDK: the same retryable upstream errors /v1/messages gives.
 */
describe('/v1/messages/count_tokens calls the upstream fails', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_TIMEOUT_MS), MODEL_MAX_RETRIES: '0' },
    });
  });
  afterAll(() => stack.close());

  const sdk = async (principal: string, maxRetries = 0) =>
    new Anthropic({ baseURL: stack.url, apiKey: await stack.token(principal), maxRetries });
  const count = async (client: Anthropic, text: string) =>
    client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: text }] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );

  it.each([
    ['whose body broke off while read', 'fault=cut'],
    ['that is not JSON', 'fault=garble'],
  ])('answers a count %s with 503 api_error, not a 500 of ours', async (_, fault) => {
    const error = await count(
      await sdk(`count-${fault.replace(/\W+/g, '-')}`),
      `hi ${directive(fault)}`,
    );

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'api_error' });
  });

  it("has the caller's SDK retry a count that broke off, and get it", async () => {
    const counted = await (await sdk('count-cut-retried', 1)).messages.countTokens({
      model: MODEL,
      messages: [
        { role: 'user', content: `hi ${directive('fault=cut times=1 key=count-cut-once')}` },
      ],
    });

    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it('answers a count that does not come in time with 503 timeout_error saying it timed out', async () => {
    const error = await count(await sdk('count-hang'), `hi ${directive('fault=hang')}`);

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'timeout_error' });
    expect((error as Error).message).toMatch(/timed out/);
    expect((error as Error).message).not.toMatch(/aborted/);
  });
});
