import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** How long a message taken from the dead-letter queue is hidden while it is moved. */
const MOVE_VISIBILITY_SECONDS = 30;

/**
 * What a dead-letter queue redrive does on AWS (StartMessageMoveTask, which the SQS
 * emulator does not have): every message visible in the dead-letter queue sent anew to
 * its source queue, its attributes with it, then deleted from the dead-letter queue.
 * @returns how many messages were moved
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  queues: { queueUrl: string; deadLetterQueueUrl: string },
): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
      }),
    );
    if (Messages.length === 0) return moved;
    for (const message of Messages) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: message.Body,
          MessageAttributes: message.MessageAttributes,
        }),
      );
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          ReceiptHandle: message.ReceiptHandle,
        }),
      );
      moved += 1;
    }
  }
}
