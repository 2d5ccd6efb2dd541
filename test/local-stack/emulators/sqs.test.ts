import { createServer, type Server } from 'node:net';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureJobQueues } from '../../../local-stack/sqs/queues.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local-stack/sqs/server.js';
import { JOBS_QUEUE_DEFINITION } from '../../../shared/jobs/queue-definition.js';

let emulator: SqsEmulator;
let client: SQSClient;

beforeAll(async () => {
  emulator = await startSqsEmulator({ port: 0 });
  client = new SQSClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  client.destroy();
  await emulator.stop();
});

const attributesOf = async (queueUrl: string) =>
  (
    await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    )
  ).Attributes ?? {};

describe('ensureJobQueues on the SQS emulator', () => {
  it('creates the jobs queue with the shared redrive policy and visibility timeout', async () => {
    const queues = await ensureJobQueues(client, {
      queueName: 'jobs',
      deadLetterQueueName: 'jobs-dlq',
    });

    const jobs = await attributesOf(queues.queueUrl);
    expect(jobs.VisibilityTimeout).toBe(String(JOBS_QUEUE_DEFINITION.visibilityTimeoutSeconds));
    expect(JSON.parse(jobs.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: queues.deadLetterQueueArn,
      maxReceiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
    });
    const deadLetters = await attributesOf(queues.deadLetterQueueUrl);
    expect(deadLetters.MessageRetentionPeriod).toBe(
      String(JOBS_QUEUE_DEFINITION.deadLetterRetentionDays * 86_400),
    );
  });

  it('accepts test overrides and updates queues that already exist', async () => {
    await ensureJobQueues(client, { queueName: 'jobs-2', deadLetterQueueName: 'jobs-2-dlq' });

    const queues = await ensureJobQueues(client, {
      queueName: 'jobs-2',
      deadLetterQueueName: 'jobs-2-dlq',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
    });

    const jobs = await attributesOf(queues.queueUrl);
    expect(jobs.VisibilityTimeout).toBe('1');
    expect(JSON.parse(jobs.RedrivePolicy ?? '{}').maxReceiveCount).toBe(2);
  });
});

describe('the SQS emulator', () => {
  let blocker: Server;
  let takenPort: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    takenPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('refuses a port that is taken, naming it', async () => {
    await expect(startSqsEmulator({ port: takenPort })).rejects.toMatchObject({
      name: 'PortInUseError',
      message: expect.stringContaining(`Port ${takenPort} is already in use`),
    });
  });
});
