import type { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { SnsEventPublisher } from '../../../../../shared/adapters/sns/sns-event-publisher.js';
import { jobEndedEvent } from '../../../../../shared/events/producer-events.js';

describe('SnsEventPublisher', () => {
  it("publishes a summary holding U+FFFE or U+FFFF escaped, which an SQS subscriber's queue would refuse", async () => {
    const sent: PublishCommand[] = [];
    const client = { send: async (command: PublishCommand) => sent.push(command) };
    const event = jobEndedEvent(
      {
        jobId: 'job-1',
        userId: 'producer-1',
        type: 'summarize.document',
        usage: {
          inputTokens: 1,
          outputTokens: 1,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
        },
        costNanoUsd: 1,
      },
      { status: 'succeeded', summary: 'a\uFFFEb\uFFFFc 😀' },
      '2026-12-01T00:00:00.000Z',
    );

    await new SnsEventPublisher(client as unknown as SNSClient, 'arn:topic').publish(event);

    const message = sent[0]!.input.Message!;
    expect(message).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(message)).toEqual(event);
  });

  it('publishes a summary of characters outside the BMP (emoji) within the 256 KiB SNS takes, escaped as they go', async () => {
    const sent: PublishCommand[] = [];
    const client = { send: async (command: PublishCommand) => sent.push(command) };
    // 160,000 bytes as text and in JSON.stringify's JSON; 480,000 escaped as published.
    const summary = '😀'.repeat(40_000);
    const event = jobEndedEvent(
      { jobId: 'job-1', userId: 'producer-1', type: 'summarize.document' },
      { status: 'succeeded', summary },
      '2026-12-01T00:00:00.000Z',
    );

    await new SnsEventPublisher(client as unknown as SNSClient, 'arn:topic').publish(event);

    const message = sent[0]!.input.Message!;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(256 * 1024);
    expect(JSON.parse(message).result).toEqual({
      summaryBytes: 160_000,
      fetch: 'GET /v1/jobs/job-1',
    });
  });
});
