import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { queueJson } from '../../domain/queue-json.js';
import { eventAttributes, type ProducerEvent } from '../../events/producer-events.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { Instrument } from '../aws/clients.js';

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
        // An SQS subscriber would refuse what SQS refuses.
        Message: queueJson(event),
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

/**
 * The publisher of a function: on the topic when one is configured, else none.
 * @param endpoint set only on the local stack (the emulator serves SNS and SQS on one endpoint)
 */
export function createEventPublisher(
  settings: { eventsTopicArn?: string | undefined; snsEndpoint?: string | undefined },
  instrument: Instrument = (client) => client,
): EventPublisher {
  if (!settings.eventsTopicArn) return NO_EVENTS;
  const client = instrument(
    new SNSClient(settings.snsEndpoint ? { endpoint: settings.snsEndpoint } : {}),
  );
  return new SnsEventPublisher(client, settings.eventsTopicArn);
}
