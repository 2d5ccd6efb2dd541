import type { ModelError } from '../domain/errors.js';
import type { ModelAnswer, ModelRequest } from './model.js';

/** One request of a batch, named so that its result can be found. */
export interface BatchRequest {
  /** 1-64 letters, digits, `_` and `-`, unique in the batch. */
  customId: string;
  request: Pick<ModelRequest, 'model' | 'system' | 'messages' | 'maxTokens'>;
}

export type BatchItemResult =
  | { customId: string; kind: 'succeeded'; answer: ModelAnswer }
  | { customId: string; kind: 'errored'; error: ModelError }
  /** Cancelled or expired (24 hours passed) before it was processed. */
  | { customId: string; kind: 'not_processed' };

export type BatchState = { state: 'in_progress' } | { state: 'ended'; results: BatchItemResult[] };

/**
 * The model provider's batch interface, in our words: requests answered within 24 hours
 * at half the token price, followed by polling. Failures of the calls themselves are
 * thrown as ModelError.
 */
export interface ModelBatches {
  submit(
    requests: BatchRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<{ batchId: string }>;
  /** Where the batch is; once ended, every request's result. */
  check(batchId: string, options?: { signal?: AbortSignal }): Promise<BatchState>;
  /**
   * Asks the provider to stop the batch: requests not yet processed end `not_processed`,
   * those done keep their result (and are billed), and the batch ends soon after (`check`
   * says when). A batch that has ended is left as it is.
   */
  cancel(batchId: string, options?: { signal?: AbortSignal }): Promise<void>;
}
