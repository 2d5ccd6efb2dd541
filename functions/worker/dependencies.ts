import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LoadedSettings } from '../../shared/config/load-settings.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { Model } from '../../shared/ports/model.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';

/** What the worker does to a message it hands back to SQS or gives up on. */
export interface MessageActions {
  /** Makes a failed message visible again only after `seconds`. */
  delayRetry(receiptHandle: string, seconds: number): Promise<void>;
  /** Moves a message that can never succeed to the dead-letter queue at once. */
  deadLetter(body: string, reason: string): Promise<void>;
}

export interface WorkerDependencies {
  settings: LoadedSettings;
  model: Model;
  ledger: UsageLedger;
  jobs: JobStore;
  conversations: ConversationStore;
  messages: MessageActions;
  idempotencyStore: BasePersistenceLayer;
  logger: Logger;
  metrics: Metrics;
  clock?: () => number;
}
