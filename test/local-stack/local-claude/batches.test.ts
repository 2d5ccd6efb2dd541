import Anthropic from '@anthropic-ai/sdk';
import type { MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { directive } from './fixtures.js';

const MODEL = 'claude-sonnet-4-6';

const params = (content: string) => ({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user' as const, content }],
});

describe('local Claude: the Message Batches API', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({
      timeToFirstTokenMs: 0,
      tokensPerSecond: 0,
      batchProcessingMs: 150,
    });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  async function results(batchId: string): Promise<MessageBatchIndividualResponse[]> {
    const lines: MessageBatchIndividualResponse[] = [];
    for await (const line of await client.messages.batches.results(batchId)) lines.push(line);
    return lines;
  }

  it('creates a batch in progress, then ends it with results the SDK reads', async () => {
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'first', params: params('Summarize the first part.') },
        { custom_id: 'second', params: params('Summarize the second part.') },
      ],
    });
    expect(batch).toMatchObject({
      id: expect.stringMatching(/^msgbatch_/),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: 2, succeeded: 0 },
      results_url: null,
    });

    await new Promise((resolve) => setTimeout(resolve, 200));
    const ended = await client.messages.batches.retrieve(batch.id);
    expect(ended).toMatchObject({
      processing_status: 'ended',
      request_counts: { processing: 0, succeeded: 2, errored: 0 },
      results_url: `${claude.url}/v1/messages/batches/${batch.id}/results`,
    });
    const lines = await results(batch.id);
    expect(lines.map((line) => line.custom_id)).toEqual(['first', 'second']);
    const first = lines[0]!.result;
    expect(first.type).toBe('succeeded');
    if (first.type !== 'succeeded') return;
    expect(first.message).toMatchObject({ type: 'message', model: MODEL, stop_reason: 'end_turn' });
    expect(first.message.usage.input_tokens).toBeGreaterThan(0);
    expect(first.message.usage.output_tokens).toBe(30);
  });

  it("answers each request as /v1/messages would, a request's fault as an errored result", async () => {
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'fine', params: params(`Fine. ${directive('tokens=5')}`) },
        {
          custom_id: 'busy',
          params: params(`Busy. ${directive('fault=error-before status=529')}`),
        },
        { custom_id: 'bad', params: { ...params('Unknown model.'), model: 'claude-nope' } },
      ],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const lines = await results(batch.id);
    expect(lines.map((line) => [line.custom_id, line.result.type])).toEqual([
      ['fine', 'succeeded'],
      ['busy', 'errored'],
      ['bad', 'errored'],
    ]);
    expect(lines[1]!.result).toMatchObject({ error: { error: { type: 'overloaded_error' } } });
    expect(lines[2]!.result).toMatchObject({ error: { error: { type: 'not_found_error' } } });
    expect((await client.messages.batches.retrieve(batch.id)).request_counts).toMatchObject({
      succeeded: 1,
      errored: 2,
    });
  });

  it('has no results before the batch has ended', async () => {
    const batch = await client.messages.batches.create(
      { requests: [{ custom_id: 'slow', params: params('Slow.') }] },
      { headers: { 'x-local-claude-directive': 'batch-ms=60000' } },
    );

    await expect(client.messages.batches.results(batch.id)).rejects.toThrow(/results_url/);
  });

  it('cancels a batch as the API does: canceling, then ended, the requests done by then kept', async () => {
    const batch = await client.messages.batches.create(
      {
        requests: [
          { custom_id: 'early', params: params('Done before the cancel.') },
          { custom_id: 'late', params: params('Not reached before the cancel.') },
        ],
      },
      // The first request is processed at 300 ms, the second at 600 ms.
      { headers: { 'x-local-claude-directive': 'batch-ms=600' } },
    );
    await new Promise((resolve) => setTimeout(resolve, 400));

    const cancelling = await client.messages.batches.cancel(batch.id);

    expect(cancelling).toMatchObject({
      id: batch.id,
      processing_status: 'canceling',
      cancel_initiated_at: expect.any(String),
      request_counts: { processing: 2, succeeded: 0, canceled: 0 },
      results_url: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const ended = await client.messages.batches.retrieve(batch.id);
    expect(ended).toMatchObject({
      processing_status: 'ended',
      cancel_initiated_at: cancelling.cancel_initiated_at,
      request_counts: { processing: 0, succeeded: 1, canceled: 1, errored: 0 },
    });
    // Ended by the cancel, before the second request would have been processed.
    expect(Date.parse(ended.ended_at!)).toBeLessThan(Date.parse(batch.created_at) + 600);
    const lines = await results(batch.id);
    expect(lines.map((line) => [line.custom_id, line.result.type])).toEqual([
      ['early', 'succeeded'],
      ['late', 'canceled'],
    ]);
    // Cancelled again once ended: answered as it is.
    expect(await client.messages.batches.cancel(batch.id)).toMatchObject({
      processing_status: 'ended',
      request_counts: { succeeded: 1, canceled: 1 },
    });
    await expect(client.messages.batches.cancel('msgbatch_unknown')).rejects.toMatchObject({
      status: 404,
    });
  });

  it('answers header faults on the batch endpoints, and 404 for an unknown batch', async () => {
    await expect(
      client.messages.batches.create(
        { requests: [{ custom_id: 'x', params: params('x') }] },
        { headers: { 'x-local-claude-directive': 'fault=error-before status=429 retry-after=3' } },
      ),
    ).rejects.toMatchObject({ status: 429 });
    await expect(client.messages.batches.retrieve('msgbatch_unknown')).rejects.toMatchObject({
      status: 404,
    });
  });

  it('refuses a batch without requests or with a repeated custom_id', async () => {
    await expect(client.messages.batches.create({ requests: [] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      client.messages.batches.create({
        requests: [
          { custom_id: 'same', params: params('a') },
          { custom_id: 'same', params: params('b') },
        ],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
