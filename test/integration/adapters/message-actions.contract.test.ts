import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import { ensureJobQueues } from '../../../local-stack/sqs/queues.js';
import { createSqsClient } from '../../../shared/adapters/aws/clients.js';
import { SqsMessageActions } from '../../../shared/adapters/sqs/sqs-message-actions.js';
import { JOBS_QUEUE_DEFINITION } from '../../../shared/jobs/queue-definition.js';
import {
  messageActionsContract,
  type StringAttributes,
} from '../../contracts/message-actions.contract.js';

const REDELIVERY_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

describe('SqsMessageActions on the SQS emulator', () => {
  let sqs: SQSClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    sqs = createSqsClient(inject('sqsEndpoint'));
  });

  const receive = (queueUrl: string, waitSeconds: number) =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ['All'],
      }),
    );

  // Queues per test, so no test receives another's messages.
  messageActionsContract(async ({ deadLetterQueue }) => {
    const id = randomUUID().slice(0, 8);
    const queues = await ensureJobQueues(sqs, {
      queueName: `contract-actions-${id}`,
      deadLetterQueueName: `contract-actions-dlq-${id}`,
    });
    return {
      actions: new SqsMessageActions(
        sqs,
        queues.queueUrl,
        deadLetterQueue ? queues.deadLetterQueueUrl : undefined,
        JOBS_QUEUE_DEFINITION.maxMessageBytes,
      ),
      async inFlight(body) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
        const { Messages = [] } = await receive(queues.queueUrl, 2);
        const receiptHandle = Messages[0]?.ReceiptHandle;
        if (!receiptHandle) throw new Error('the message sent was not received');
        return receiptHandle;
      },
      async hiddenForSeconds() {
        const startMs = Date.now();
        while (Date.now() - startMs < REDELIVERY_TIMEOUT_MS) {
          const { Messages = [] } = await receive(queues.queueUrl, 0);
          if (Messages.length > 0) return (Date.now() - startMs) / 1000;
          await sleep(POLL_MS);
        }
        return Number.POSITIVE_INFINITY;
      },
      async delivered(body) {
        const startMs = Date.now();
        while (Date.now() - startMs < REDELIVERY_TIMEOUT_MS) {
          const { Messages = [] } = await receive(queues.queueUrl, 0);
          const found = Messages.find((m) => m.Body === body);
          if (found) {
            return {
              afterSeconds: (Date.now() - startMs) / 1000,
              attributes: stringAttributes(found.MessageAttributes),
            };
          }
          await sleep(POLL_MS);
        }
        return { afterSeconds: Number.POSITIVE_INFINITY, attributes: {} };
      },
      async deadLetters(count) {
        const letters: Array<{ body: string; reason: string; attributes: StringAttributes }> = [];
        const deadline = Date.now() + REDELIVERY_TIMEOUT_MS;
        while (letters.length < count && Date.now() < deadline) {
          const { Messages = [] } = await receive(queues.deadLetterQueueUrl, 1);
          for (const message of Messages) {
            const { failureReason, ...attributes } = stringAttributes(message.MessageAttributes);
            letters.push({ body: message.Body ?? '', reason: failureReason ?? '', attributes });
          }
        }
        return letters;
      },
    };
  });

  it('dead-letters a message at the size limit, its reason cut to the room left', async () => {
    const id = randomUUID().slice(0, 8);
    const queues = await ensureJobQueues(sqs, {
      queueName: `actions-limit-${id}`,
      deadLetterQueueName: `actions-limit-dlq-${id}`,
    });
    const max = JOBS_QUEUE_DEFINITION.maxMessageBytes;
    const actions = new SqsMessageActions(sqs, queues.queueUrl, queues.deadLetterQueueUrl, max);
    const reason = 'invalid job message: '.padEnd(1_000, 'x');
    const roomFor = (reasonBytes: number) => max - 'failureReasonString'.length - reasonBytes;

    const type = { dataType: 'String', stringValue: 'summarize.document' };
    const typeBytes = 'typeStringsummarize.document'.length;
    for (const [body, attributes, kept] of [
      ['a'.repeat(roomFor(40)), {}, reason.slice(0, 40)],
      ['c'.repeat(roomFor(40) - typeBytes), { type }, reason.slice(0, 40)],
      ['b'.repeat(max), {}, undefined],
    ] as const) {
      await actions.deadLetter({ body, attributes }, reason);
      const { Messages = [] } = await receive(queues.deadLetterQueueUrl, 1);
      expect(
        Messages.map((m) => [m.Body?.length, m.MessageAttributes?.failureReason?.StringValue]),
      ).toEqual([[body.length, kept]]);
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          ReceiptHandle: Messages[0]!.ReceiptHandle!,
        }),
      );
    }
  });

  it('leaves the reason off a message with as many attributes as SQS allows', async () => {
    const id = randomUUID().slice(0, 8);
    const queues = await ensureJobQueues(sqs, {
      queueName: `actions-attrs-${id}`,
      deadLetterQueueName: `actions-attrs-dlq-${id}`,
    });
    const max = JOBS_QUEUE_DEFINITION.maxMessageBytes;
    const actions = new SqsMessageActions(sqs, queues.queueUrl, queues.deadLetterQueueUrl, max);
    const attributes = Object.fromEntries(
      Array.from({ length: 10 }, (_, n) => [`a${n}`, { dataType: 'String', stringValue: `${n}` }]),
    );

    await actions.deadLetter({ body: '{}', attributes }, 'model not allowed');

    const { Messages = [] } = await receive(queues.deadLetterQueueUrl, 1);
    expect(Messages.map((m) => stringAttributes(m.MessageAttributes))).toEqual([
      Object.fromEntries(Object.entries(attributes).map(([name, a]) => [name, a.stringValue])),
    ]);
  });
});

function stringAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): StringAttributes {
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']),
  );
}
