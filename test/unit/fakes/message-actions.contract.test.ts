import { describe } from 'vitest';
import { JOBS_QUEUE_DEFINITION } from '../../../shared/jobs/queue-definition.js';
import { messageActionsContract } from '../../contracts/message-actions.contract.js';
import { RecordingMessageActions } from '../../fakes/recording-message-actions.js';

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
        JOBS_QUEUE_DEFINITION.visibilityTimeoutSeconds,
      deliveredAfterSeconds: async (body) =>
        actions.requeued.find((message) => message.body === body)?.delaySeconds ??
        Number.POSITIVE_INFINITY,
      deadLetters: async () => actions.deadLettered,
    };
  });
});
