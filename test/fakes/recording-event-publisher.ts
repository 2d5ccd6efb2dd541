import { eventAttributes, type ProducerEvent } from '../../shared/events/producer-events.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';

/** The EventPublisher port that keeps every event published, with its attributes. */
export class RecordingEventPublisher implements EventPublisher {
  /** Events in the order published, each a copy as it was (JSON, as subscribers get it). */
  readonly published: ProducerEvent[] = [];
  readonly deliveries: Array<{ event: ProducerEvent; attributes: Record<string, string> }> = [];
  /** Set to make every publish fail, as an unreachable topic would. */
  failing = false;

  async publish(event: ProducerEvent): Promise<void> {
    if (this.failing) throw new Error('the events topic is unreachable');
    const copy = JSON.parse(JSON.stringify(event)) as ProducerEvent;
    this.published.push(copy);
    this.deliveries.push({ event: copy, attributes: eventAttributes(event) });
  }

  /** The job events of one job, oldest first. */
  ofJob(jobId: string): ProducerEvent[] {
    return this.published.filter((event) => 'jobId' in event && event.jobId === jobId);
  }
}
