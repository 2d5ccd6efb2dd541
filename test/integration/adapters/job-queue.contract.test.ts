import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, inject } from 'vitest';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import { ensureJobQueues } from '../../../local-stack/sqs/queues.js';
import { createSqsClient } from '../../../shared/adapters/aws/clients.js';
import { SqsJobQueue } from '../../../shared/adapters/sqs/sqs-job-queue.js';
import { JOBS_QUEUE_DEFINITION } from '../../../shared/jobs/queue-definition.js';
import { jobQueueContract } from '../../contracts/job-queue.contract.js';

const DELIVERY_TIMEOUT_MS = 5_000;

/** Receives until `count` messages arrived (or the timeout), then looks once more for strays. */
async function receive(sqs: SQSClient, queueUrl: string, count: number): Promise<unknown[]> {
  const bodies: unknown[] = [];
  const receiveOnce = async (waitSeconds: number) => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
      }),
    );
    bodies.push(...Messages.map((message) => JSON.parse(message.Body ?? 'null')));
  };
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (bodies.length < count && Date.now() < deadline) await receiveOnce(1);
  // A duplicate delivery would show up here.
  await receiveOnce(0);
  return bodies;
}

describe('SqsJobQueue on the SQS emulator', () => {
  let sqs: SQSClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    sqs = createSqsClient(inject('sqsEndpoint'));
  });

  // A queue per test, so no test receives another's messages.
  jobQueueContract(async () => {
    const id = randomUUID().slice(0, 8);
    const { queueUrl } = await ensureJobQueues(sqs, {
      queueName: `contract-jobs-${id}`,
      deadLetterQueueName: `contract-jobs-dlq-${id}`,
    });
    return {
      queue: new SqsJobQueue(sqs, queueUrl, JOBS_QUEUE_DEFINITION.maxMessageBytes),
      delivered: (count) => receive(sqs, queueUrl, count),
    };
  });
});
