import { describe } from 'vitest';
import {
  JOBS_QUEUE_DEFINITION,
  visibilityTimeoutFor,
} from '../../../shared/jobs/queue-definition.js';
import type { QueueMessage } from '../../../shared/ports/message-actions.js';
import { messageActionsContract } from '../../contracts/message-actions.contract.js';
import { RecordingMessageActions } from '../../fakes/recording-message-actions.js';

const stringAttributes = (attributes: QueueMessage['attributes']) =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, attribute]) => [name, attribute.stringValue ?? '']),
  );

describe('RecordingMessageActions', () => {
  messageActionsContract(async (options) => {
    const actions = new RecordingMessageActions(options);
    let received = 0;
    return {
      actions,
      inFlight: async () => `receipt-${++received}`,
      // A message no retry was asked for stays hidden for the queue's visibility timeout.
      hiddenForSeconds: async (receiptHandle) =>
        actions.retries.findLast((retry) => retry.receiptHandle === receiptHandle)?.seconds ??
        visibilityTimeoutFor(JOBS_QUEUE_DEFINITION.workerTimeoutSeconds),
      async delivered(body) {
        const requeued = actions.requeued.find((message) => message.body === body);
        return {
          afterSeconds: requeued?.delaySeconds ?? Number.POSITIVE_INFINITY,
          attributes: stringAttributes(requeued?.attributes ?? {}),
        };
      },
      deadLetters: async () =>
        actions.deadLettered.map(({ body, reason, attributes }) => ({
          body,
          reason,
          attributes: stringAttributes(attributes),
        })),
    };
  });
});
