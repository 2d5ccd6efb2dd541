import {
  CreateTopicCommand,
  type SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Creates the events topic (CreateTopic is idempotent), as the CDK stack does. The SNS
 * emulator (fauxqs) serves SNS and SQS on one endpoint: create `client` with it.
 */
export async function ensureEventsTopic(client: SNSClient, name: string): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
  if (!TopicArn) throw new Error(`CreateTopic returned no TopicArn for ${name}`);
  return TopicArn;
}

export interface TopicSubscriber {
  queueUrl: string;
  /** Waits until `predicate` holds for one delivered event, and returns it (deleting what it read). */
  waitFor<T = Record<string, unknown>>(
    predicate: (event: T, attributes: Record<string, string>) => boolean,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ event: T; attributes: Record<string, string> }>;
  /** Every delivery read so far, in order. */
  readonly seen: Array<{ event: unknown; attributes: Record<string, string> }>;
  close(): Promise<void>;
}

/**
 * What a producer does to hear the product's events: its own SQS queue, subscribed to the
 * topic with raw delivery (the body is the event, SNS attributes become SQS ones) and an
 * optional filter policy on the attributes.
 */
export async function subscribeQueue(
  clients: { sns: SNSClient; sqs: SQSClient },
  topicArn: string,
  options: { queueName: string; filterPolicy?: Record<string, unknown> },
): Promise<TopicSubscriber> {
  const { QueueUrl: queueUrl } = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: options.queueName }),
  );
  if (!queueUrl) throw new Error(`CreateQueue returned no URL for ${options.queueName}`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const { SubscriptionArn } = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: {
        RawMessageDelivery: 'true',
        ...(options.filterPolicy && { FilterPolicy: JSON.stringify(options.filterPolicy) }),
      },
      ReturnSubscriptionArn: true,
    }),
  );
  const seen: TopicSubscriber['seen'] = [];
  return {
    queueUrl,
    seen,
    async waitFor(predicate, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 60_000);
      for (const delivery of seen) {
        if (predicate(delivery.event as never, delivery.attributes)) {
          return delivery as never;
        }
      }
      while (Date.now() < deadline) {
        waitOptions.signal?.throwIfAborted();
        const messages = await receive(clients.sqs, queueUrl, waitOptions.signal);
        for (const message of messages) {
          const delivery = {
            event: JSON.parse(message.Body ?? 'null'),
            attributes: attributesOf(message),
          };
          seen.push(delivery);
        }
        const found = seen.find((d) => predicate(d.event as never, d.attributes));
        if (found) return found as never;
      }
      throw new Error(`no matching event within ${waitOptions.timeoutMs ?? 60_000} ms`);
    },
    async close() {
      if (SubscriptionArn) {
        await clients.sns.send(new UnsubscribeCommand({ SubscriptionArn })).catch(() => {});
      }
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    },
  };
}

async function receive(sqs: SQSClient, queueUrl: string, signal?: AbortSignal): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
    signal ? { abortSignal: signal } : {},
  );
  if (Messages.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return Messages;
}

function attributesOf(message: Message): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      value.StringValue ?? '',
    ]),
  );
}
