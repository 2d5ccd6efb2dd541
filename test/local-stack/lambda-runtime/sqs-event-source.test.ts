import { createHash, randomUUID } from 'node:crypto';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type SqsEventSource,
  startSqsEventSource,
} from '../../../local-stack/lambda-runtime/sqs-event-source.js';
import { ensureJobQueues, type JobQueues } from '../../../local-stack/sqs/queues.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local-stack/sqs/server.js';
import { deferred } from './support.js';

let emulator: SqsEmulator;
let client: SQSClient;
let source: SqsEventSource | undefined;

beforeAll(async () => {
  emulator = await startSqsEmulator({ port: 0 });
  client = new SQSClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
});
afterAll(async () => {
  client.destroy();
  await emulator.stop();
});

/** Queues that redeliver after 1 s and dead-letter after 2 receives. */
const freshQueues = () =>
  ensureJobQueues(client, {
    queueName: `jobs-${randomUUID()}`,
    deadLetterQueueName: `dlq-${randomUUID()}`,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });

function listen(
  queues: JobQueues,
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>,
) {
  source = startSqsEventSource({
    client,
    queueUrl: queues.queueUrl,
    handler,
    batchSize: 5,
    maxBatchingWindowMs: 300,
    functionName: 'worker',
    timeoutMs: 10_000,
    memoryMb: 1024,
    log: () => {},
  });
}

async function messagesLeft(queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

async function sendAll(queueUrl: string, bodies: string[]) {
  await client.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'summary' } },
      })),
    }),
  );
}

describe('the SQS event source', () => {
  it('invokes the handler with a batch of Lambda-shaped records and deletes them on success', async () => {
    const queues = await freshQueues();
    await sendAll(queues.queueUrl, ['a', 'b', 'c']);
    const events: SQSEvent[] = [];
    const contexts: Context[] = [];
    listen(queues, async (event, context) => {
      events.push(event);
      contexts.push(context);
      return { batchItemFailures: [] };
    });

    await vi.waitFor(() => expect(events.flatMap((e) => e.Records)).toHaveLength(3), {
      timeout: 15_000,
    });
    expect(contexts[0]).toMatchObject({ functionName: 'worker', memoryLimitInMB: '1024' });
    expect(events[0]!.Records.map((r) => r.body).sort()).toEqual(['a', 'b', 'c']);
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: 'us-east-1',
      md5OfBody: createHash('md5').update(record.body).digest('hex'),
      messageAttributes: {
        kind: {
          stringValue: 'summary',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
      },
    });
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(record.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d+$/);
    expect(typeof record.attributes.SenderId).toBe('string');
    expect(SqsSchema.safeParse(events[0]).success).toBe(true);
    await vi.waitFor(async () => expect(await messagesLeft(queues.queueUrl)).toBe(0), {
      timeout: 15_000,
    });
  });

  it('redelivers only the reported failure, with a higher receive count, then dead-letters it', async () => {
    const queues = await freshQueues();
    await sendAll(queues.queueUrl, ['ok-1', 'poison', 'ok-2']);
    const deliveries: SQSRecord[] = [];
    listen(queues, async (event) => {
      deliveries.push(...event.Records);
      return {
        batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    });

    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, WaitTimeSeconds: 20 }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual(['poison']);
    const poison = deliveries.filter((r) => r.body === 'poison');
    expect(poison.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(deliveries.filter((r) => r.body.startsWith('ok'))).toHaveLength(2);
    expect(await messagesLeft(queues.queueUrl)).toBe(0);
  });

  it('deletes nothing when the handler throws, so the batch comes back', async () => {
    const queues = await freshQueues();
    await client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'flaky' }));
    const receiveCounts: string[] = [];
    listen(queues, async (event) => {
      const count = event.Records[0]!.attributes.ApproximateReceiveCount;
      receiveCounts.push(count);
      if (count === '1') throw new Error('transient');
      return undefined;
    });

    await vi.waitFor(() => expect(receiveCounts).toEqual(['1', '2']), { timeout: 15_000 });
    await vi.waitFor(async () => expect(await messagesLeft(queues.queueUrl)).toBe(0), {
      timeout: 15_000,
    });
  });

  it('fails the whole batch when batchItemFailures names an unknown message', async () => {
    const queues = await freshQueues();
    await sendAll(queues.queueUrl, ['x', 'y']);
    const deliveries: string[] = [];
    listen(queues, async (event) => {
      deliveries.push(
        ...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`),
      );
      return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
    });

    await vi.waitFor(() => expect(deliveries).toEqual(expect.arrayContaining(['x#2', 'y#2'])), {
      timeout: 15_000,
    });
  });

  it('stops by aborting its long poll', { timeout: 10_000 }, async () => {
    const queues = await freshQueues();
    listen(queues, async () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await source!.stop();
    source = undefined;
    await client.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'after stop' }),
    );
    expect(await messagesLeft(queues.queueUrl)).toBe(1);
  });

  it('waits for the batch in flight when stopped', async () => {
    const queues = await freshQueues();
    await client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'slow' }));
    const started = deferred();
    const release = deferred();
    listen(queues, async () => {
      started.resolve();
      await release.promise;
      return undefined;
    });
    await started.promise;

    let stopped = false;
    const stopping = source!.stop().then(() => {
      stopped = true;
    });
    source = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect(await messagesLeft(queues.queueUrl)).toBe(0);
  });
});
