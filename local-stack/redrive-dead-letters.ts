import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** How long a message taken from the dead-letter queue is hidden while it is moved. */
const MOVE_VISIBILITY_SECONDS = 30;

/**
 * What a dead-letter queue redrive does on AWS (StartMessageMoveTask, which the SQS
 * emulator does not have): the messages in the dead-letter queue as it starts (as many as
 * its ApproximateNumberOfMessagesToMove) sent anew to their source queue, attributes and
 * all, then deleted from the dead-letter queue. One dead-lettered again meanwhile stays.
 * @returns how many messages were moved
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  queues: { queueUrl: string; deadLetterQueueUrl: string },
): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queues.deadLetterQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  const toMove = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  let moved = 0;
  while (moved < toMove) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, toMove - moved),
        MessageAttributeNames: ['All'],
        VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
      }),
    );
    if (Messages.length === 0) break;
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
  return moved;
}
