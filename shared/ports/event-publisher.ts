import type { ProducerEvent } from '../events/producer-events.js';

/**
 * Where the product tells producers what happened to their work: every job's end, a long
 * job's progress, budgets crossing their thresholds. Delivery is at least once.
 */
export interface EventPublisher {
  publish(event: ProducerEvent): Promise<void>;
}
