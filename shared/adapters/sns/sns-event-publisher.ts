import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { eventAttributes, type ProducerEvent } from '../../events/producer-events.js';
import type { EventPublisher } from '../../ports/event-publisher.js';

/** The EventPublisher port on an SNS topic: the event as JSON, its attributes for filter policies. */
export class SnsEventPublisher implements EventPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: ProducerEvent): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: Object.fromEntries(
          Object.entries(eventAttributes(event)).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  }
}

/** Events turned off (no topic configured): nothing is published. */
export const NO_EVENTS: EventPublisher = { publish: async () => {} };
