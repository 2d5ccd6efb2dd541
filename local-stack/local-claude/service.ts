import type { StoredBatch } from './batches-route.js';
import type { FaultLedger } from './faults.js';
import type { PromptCache } from './prompt-cache.js';
import type { Pacing } from './stream.js';

/** What every request to one local Claude shares. */
export interface LocalClaudeService {
  /** Accepted model ids, in the order the options gave them. */
  models: ReadonlySet<string>;
  cache: PromptCache;
  faults: FaultLedger;
  pacing: Pacing;
  /** Message Batches created, by id. */
  batches: Map<string, StoredBatch>;
  /** How long a batch stays `in_progress`. */
  batchProcessingMs: number;
}
