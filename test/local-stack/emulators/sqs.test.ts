import { createServer, type Server } from 'node:net';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
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

// fauxqs takes these; SQS refuses them, so a producer tested here would fail on AWS.
describe('messages SQS refuses', () => {
  const queueUrl = async () =>
    (await client.send(new CreateQueueCommand({ QueueName: 'refusals' }))).QueueUrl!;
  const text = (value: string): MessageAttributeValue => ({
    DataType: 'String',
    StringValue: value,
  });

  it('refuses an attribute with an empty value', async () => {
    await expect(
      client.send(
        new SendMessageCommand({
          QueueUrl: await queueUrl(),
          MessageBody: 'x',
          MessageAttributes: { type: text('summarize'), tenant: text('') },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: "Message (user) attribute 'tenant' must contain a non-empty value of type 'String'.",
    });
  });

  it('refuses more than 10 attributes', async () => {
    const attributes = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`a${i}`, text('v')]),
    );
    await expect(
      client.send(
        new SendMessageCommand({
          QueueUrl: await queueUrl(),
          MessageBody: 'x',
          MessageAttributes: attributes,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: 'Number of message attributes [11] exceeds the allowed maximum [10].',
    });
  });

  for (const name of [
    'AWS.trace',
    'amazon.tenant',
    '.tenant',
    'tenant.',
    'a..b',
    'a b',
    'x'.repeat(257),
  ]) {
    it(`refuses an attribute named ${name.slice(0, 20)}`, async () => {
      await expect(
        client.send(
          new SendMessageCommand({
            QueueUrl: await queueUrl(),
            MessageBody: 'x',
            MessageAttributes: { [name]: text('v') },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    });
  }

  it('takes attribute names of letters, digits, _, - and single inner periods', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'names' }));
    await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'x',
        MessageAttributes: { 'tenant.id_2-b': text('v'), AWSome: text('v') },
      }),
    );
  });

  for (const [label, value] of [
    ['U+FFFF', 'model "\uffff" is not allowed'],
    ['a control character', 'bad\u0001'],
    ['a lone surrogate', 'cut \ud83d'],
  ]) {
    it(`refuses an attribute value with ${label}, as it would the body`, async () => {
      await expect(
        client.send(
          new SendMessageCommand({
            QueueUrl: await queueUrl(),
            MessageBody: 'x',
            MessageAttributes: { failureReason: text(value!) },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    });
  }

  it('takes attribute values of any character SQS allows, emoji and tabs included', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'values' }));
    const value = 'tab\tline\nsmile \u{1F600} \uFFFD';
    await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'x',
        MessageAttributes: { note: text(value), count: { DataType: 'Number', StringValue: '2' } },
      }),
    );
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'] }),
    );
    expect(Messages[0]?.MessageAttributes?.note?.StringValue).toBe(value);
  });

  it('refuses a delay over 900 seconds', async () => {
    await expect(
      client.send(
        new SendMessageCommand({ QueueUrl: await queueUrl(), MessageBody: 'x', DelaySeconds: 901 }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('fails only the refused entries of a batch, sending the others', async () => {
    const url = await queueUrl();
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'good', MessageBody: 'kept', MessageAttributes: { type: text('summarize') } },
          { Id: 'empty', MessageBody: 'x', MessageAttributes: { tenant: text('') } },
          { Id: 'late', MessageBody: 'x', DelaySeconds: 1_000 },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['good']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'empty', SenderFault: true, Code: 'InvalidParameterValue' }),
      expect.objectContaining({ Id: 'late', SenderFault: true, Code: 'InvalidParameterValue' }),
    ]);
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((message) => message.Body)).toEqual(['kept']);
  });

  it('still takes a batch whose every entry is refused, failing each', async () => {
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: await queueUrl(),
        Entries: [{ Id: 'empty', MessageBody: 'x', MessageAttributes: { tenant: text('') } }],
      }),
    );
    expect(result.Successful ?? []).toEqual([]);
    expect(result.Failed?.map((entry) => entry.Id)).toEqual(['empty']);
  });
});

// fauxqs publishes these; SNS refuses them.
describe('publishes SNS refuses', () => {
  const publish = async (attributes: Record<string, MessageAttributeValue>) => {
    const sns = new SNSClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'refusals' }));
      return await sns.send(
        new PublishCommand({ TopicArn, Message: '{}', MessageAttributes: attributes }),
      );
    } finally {
      sns.destroy();
    }
  };

  it('refuses an attribute with an empty value', async () => {
    await expect(
      publish({
        type: { DataType: 'String', StringValue: 'job.ended' },
        userId: { DataType: 'String', StringValue: '' },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringMatching(/'userId'/),
    });
  });

  it('refuses an attribute name SNS does not allow', async () => {
    await expect(
      publish({ 'AWS.type': { DataType: 'String', StringValue: 'job.ended' } }),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('publishes attributes SNS takes', async () => {
    expect(
      await publish({
        type: { DataType: 'String', StringValue: 'job.ended' },
        'tenant.id': { DataType: 'Number', StringValue: '7' },
      }),
    ).toMatchObject({ MessageId: expect.any(String) });
  });
});

describe('ensureJobQueues on the SQS emulator', () => {
  it('creates the jobs queue with the shared redrive policy and visibility timeout', async () => {
    const queues = await ensureJobQueues(client, {
      queueName: 'jobs',
      deadLetterQueueName: 'jobs-dlq',
    });

    const jobs = await attributesOf(queues.queueUrl);
    expect(jobs.VisibilityTimeout).toBe('721');
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
