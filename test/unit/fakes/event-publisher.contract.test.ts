import { describe } from 'vitest';
import { eventPublisherContract } from '../../contracts/event-publisher.contract.js';
import { RecordingEventPublisher } from '../../fakes/recording-event-publisher.js';

describe('RecordingEventPublisher', () => {
  eventPublisherContract(async () => {
    const publisher = new RecordingEventPublisher();
    return {
      publisher,
      received: async (count) => publisher.deliveries.slice(0, count),
    };
  });
});
