import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** An id a caller sends is named in the error it gets, but a 5,000-character one only by its start. */
describe('errors naming a long id', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.token('long-ids');
  });
  afterAll(() => stack.close());

  const errorOf = async (method: string, path: string) => {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      status: response.status,
      ...((await response.json()) as { error: { message: string } }).error,
    };
  };

  it('answers GET and cancel of a 5,000-character job id with a short 404 naming its start (it named all of it)', async () => {
    const id = 'j'.repeat(5_000);
    for (const [method, path] of [
      ['GET', `/v1/jobs/${id}`],
      ['POST', `/v1/jobs/${id}/cancel`],
    ] as const) {
      const error = await errorOf(method, path);
      expect(error, method).toMatchObject({
        status: 404,
        type: 'not_found_error',
        message: `job "${'j'.repeat(128)}…" does not exist`,
      });
    }
  });

  it('cuts a long job id between whole emoji, and names an id of the longest valid length whole', async () => {
    const emoji = `job-${'\u{1F9FE}'.repeat(100)}`;
    const cut = await errorOf('GET', `/v1/jobs/${encodeURIComponent(emoji)}`);
    expect(cut.message).toBe(`job "job-${'\u{1F9FE}'.repeat(62)}…" does not exist`);
    expect(cut.message.isWellFormed()).toBe(true);

    const longest = `job-${'x'.repeat(124)}`;
    const whole = await errorOf('POST', `/v1/jobs/${longest}/cancel`);
    expect(whole).toMatchObject({ status: 404, message: `job "${longest}" does not exist` });
  });

  it("answers the Anthropic SDK's models.retrieve of a very long id with a short 404 naming its start", async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 });
    const id = `claude-${'\u{1F916}'.repeat(400)}`;

    const error = await client.models.retrieve(id).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const message = String((error as InstanceType<typeof Anthropic.NotFoundError>).apiMessage);
    expect(message).toBe(`model: claude-${'\u{1F916}'.repeat(60)}…`);
    expect(message.isWellFormed()).toBe(true);
  });
});
