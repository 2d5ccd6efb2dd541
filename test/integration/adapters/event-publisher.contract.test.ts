import { randomUUID } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, describe, inject } from 'vitest';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  ensureEventsTopic,
  subscribeQueue,
  type TopicSubscriber,
} from '../../../local-stack/sns/topics.js';
import { createSqsClient } from '../../../shared/adapters/aws/clients.js';
import { SnsEventPublisher } from '../../../shared/adapters/sns/sns-event-publisher.js';
import { eventPublisherContract } from '../../contracts/event-publisher.contract.js';

describe('SnsEventPublisher on the SNS emulator, read through an SQS subscription', () => {
  const subscribers: TopicSubscriber[] = [];
  afterAll(async () => {
    await Promise.all(subscribers.map((s) => s.close()));
  });

  eventPublisherContract(async () => {
    ensureLocalAwsEnv();
    const endpoint = inject('sqsEndpoint');
    const sns = new SNSClient({ endpoint });
    const sqs = createSqsClient(endpoint);
    const id = randomUUID().slice(0, 8);
    const topicArn = await ensureEventsTopic(sns, `contract-events-${id}`);
    const subscriber = await subscribeQueue({ sns, sqs }, topicArn, {
      queueName: `contract-events-${id}`,
    });
    subscribers.push(subscriber);
    return {
      publisher: new SnsEventPublisher(sns, topicArn),
      received: async (count) => {
        await subscriber.waitFor(() => subscriber.seen.length >= count, { timeoutMs: 10_000 });
        return subscriber.seen.slice(0, count);
      },
    };
  });
});
