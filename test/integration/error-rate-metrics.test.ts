import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * The metrics the error-rate alarm reads (`TurnsFailed` over `Requests`, and `ModelErrors`
 * by type on the dashboard), as the chat function publishes them (EMF on stdout), when the
 * model cannot start answering: an outage of Claude, or of our access to it, must count.
 */
describe('the error rate, when the model cannot start answering', () => {
  let stack: TestStack;
  const published: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    stack = await startTestStack({ env: { MODEL_MAX_RETRIES: '0' } });
    // Kept out of the test output: the failures' log lines and metrics are expected here.
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      for (const line of String(chunk).split('\n')) {
        if (line.includes('"_aws"')) published.push(JSON.parse(line));
      }
      return true;
    });
  });
  afterEach(() => {
    published.length = 0;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    await stack.close();
  });

  /** A /v1/messages call, through the official SDK, that the local Claude answers with `fault`. */
  const messagesWith = async (user: string, fault: string) => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token(user),
      maxRetries: 0,
    });
    return client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [{ role: 'user', content: `hi ${directive(fault)}` }],
    });
  };
  const counted = async () => {
    await vi.waitFor(() => expect(published.some((line) => 'Requests' in line)).toBe(true));
    const sum = (name: string) =>
      published.reduce(
        (total, line) => total + (typeof line[name] === 'number' ? (line[name] as number) : 0),
        0,
      );
    const types = published.flatMap((line) => ('ModelErrors' in line ? [line.ErrorType] : []));
    return { requests: sum('Requests'), failed: sum('TurnsFailed'), types };
  };

  it('counts a chat turn whose model is overloaded as a failed call', async () => {
    const response = await stack.chat('overloaded-chat', {
      message: `hi ${directive('fault=error-before status=529')}`,
    });
    expect(response.status).toBe(529);
    await response.body?.cancel();

    expect(await counted()).toEqual({ requests: 1, failed: 1, types: ['overloaded_error'] });
  });

  it('counts a /v1/messages call the Anthropic API fails as a failed call', async () => {
    await expect(
      messagesWith('failed-messages', 'fault=error-before status=500'),
    ).rejects.toBeInstanceOf(Anthropic.InternalServerError);

    expect(await counted()).toEqual({ requests: 1, failed: 1, types: ['api_error'] });
  });

  it("counts a /v1/messages call refused for the caller's own request, but not as failed", async () => {
    await expect(
      messagesWith('refused-messages', 'fault=error-before status=400 type=invalid_request_error'),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);

    expect(await counted()).toEqual({ requests: 1, failed: 0, types: [] });
  });

  it('counts a /v1/messages stream the API refused with its first event, before message_start, as a failed call', async () => {
    const client = new Anthropic({
      baseURL: stack.url,
      apiKey: await stack.token('shed-messages'),
      maxRetries: 0,
    });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [{ role: 'user', content: `hi ${directive('fault=error-first')}` }],
    });
    stream.on('error', () => {});

    await expect(stream.finalMessage()).rejects.toMatchObject({ type: 'overloaded_error' });

    expect(await counted()).toEqual({ requests: 1, failed: 1, types: ['overloaded_error'] });
  });

  it('counts a /v1/messages stream with an event that is not JSON as a failed call, though it ends', async () => {
    const response = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('garbled-messages')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 10,
        stream: true,
        messages: [{ role: 'user', content: `hi ${directive('fault=garble after=1')}` }],
      }),
    });
    expect(await response.text()).toMatch(/event: message_stop\n/);

    expect(await counted()).toEqual({ requests: 1, failed: 1, types: ['api_error'] });
  });
});
