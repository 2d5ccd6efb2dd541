import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type BudgetThresholdEvent,
  type JobEndedEvent,
  jobEndedEvent,
  type ProducerEvent,
} from '../../shared/events/producer-events.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';

export interface EventPublisherSubject {
  publisher: EventPublisher;
  /** What a subscriber got, once `count` deliveries have arrived: each event and its attributes. */
  received(count: number): Promise<Array<{ event: unknown; attributes: Record<string, string> }>>;
}

const AT = '2026-11-15T10:00:00.000Z';

const ended = (fields: Partial<JobEndedEvent> = {}): JobEndedEvent => ({
  ...jobEndedEvent(
    {
      jobId: `invoice-${randomUUID()}`,
      userId: 'producer-1',
      type: 'summarize.document',
      usage: {
        inputTokens: 10,
        outputTokens: 5,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
      costNanoUsd: 105_000,
    },
    { status: 'succeeded', summary: 'Q3 went well. 😀' },
    AT,
  ),
  ...fields,
});

/** The EventPublisher port's behaviour, for the recording fake and the SNS adapter. */
export function eventPublisherContract(subject: () => Promise<EventPublisherSubject>) {
  describe('publish', () => {
    it('delivers a job event as it was published, with its type, status and user as attributes', async () => {
      const { publisher, received } = await subject();
      const event = ended();

      await publisher.publish(event);

      expect(await received(1)).toEqual([
        {
          event,
          attributes: { type: 'job.ended', status: 'succeeded', userId: 'producer-1' },
        },
      ]);
    });

    it('delivers a budget event of the deployment with no user attribute', async () => {
      const { publisher, received } = await subject();
      const event: BudgetThresholdEvent = {
        version: 1,
        type: 'budget.threshold',
        at: AT,
        scope: 'deployment',
        month: '2026-11',
        percent: 80,
        spentUsd: 812.5,
        budgetUsd: 1000,
      };

      await publisher.publish(event);

      expect(await received(1)).toEqual([
        { event, attributes: { type: 'budget.threshold', scope: 'deployment' } },
      ]);
    });

    it('delivers every event published, each once', async () => {
      const { publisher, received } = await subject();
      const events: ProducerEvent[] = [ended(), ended({ status: 'failed' }), ended()];

      for (const event of events) await publisher.publish(event);

      const jobIds = (await received(3)).map((d) => (d.event as JobEndedEvent).jobId).sort();
      expect(jobIds).toEqual(events.map((e) => (e as JobEndedEvent).jobId).sort());
    });
  });
}
