import type { StopReason } from '../../shared/domain/conversation.js';
import { ModelError, type ModelErrorKind } from '../../shared/domain/errors.js';
import { estimateTokens } from '../../shared/domain/tokens.js';
import type {
  BatchItemResult,
  BatchRequest,
  BatchState,
  ModelBatches,
} from '../../shared/ports/model-batches.js';

/** How one request of a batch is answered: text (one output token per word), or an error. */
export type BatchScript =
  | { kind: 'answer'; text: string; stopReason?: StopReason }
  | { kind: 'error'; error: ModelErrorKind };

/**
 * The ModelBatches port following a script per request, recording every batch. A batch
 * is `in_progress` for its first `checksBeforeEnd` checks, then ended with every result.
 */
export class ScriptedModelBatches implements ModelBatches {
  /** Every batch submitted, oldest first. */
  readonly batches: Array<{
    batchId: string;
    requests: BatchRequest[];
    checks: number;
    /** Cancelled: `canceling` (in progress) at its next check, then ended, no request processed. */
    cancelled?: boolean;
    checksSinceCancel?: number;
  }> = [];
  /** Set to make submit fail as a throttled API does. */
  submitError: ModelErrorKind | undefined;
  /** Set to make check fail as an API outage does. */
  checkError: ModelErrorKind | undefined;
  /** Set to make cancel fail as an API outage does. */
  cancelError: ModelErrorKind | undefined;
  /** Every cancel asked, by batch id, in order. */
  readonly cancels: string[] = [];

  constructor(
    private readonly script: (request: BatchRequest) => BatchScript = () => ({
      kind: 'answer',
      text: 'A faithful summary.',
    }),
    private readonly checksBeforeEnd = 1,
  ) {}

  async submit(requests: BatchRequest[]): Promise<{ batchId: string }> {
    if (this.submitError) throw new ModelError(this.submitError, 'the batch was refused');
    const ids = new Set(requests.map((r) => r.customId));
    if (requests.length === 0 || ids.size !== requests.length) {
      throw new ModelError('invalid_request', 'the model rejected the request');
    }
    const batchId = `msgbatch_fake_${this.batches.length + 1}`;
    this.batches.push({ batchId, requests: structuredClone(requests), checks: 0 });
    return { batchId };
  }

  async check(batchId: string): Promise<BatchState> {
    if (this.checkError) throw new ModelError(this.checkError, 'the batch could not be checked');
    const batch = this.batches.find((b) => b.batchId === batchId);
    if (!batch) throw new ModelError('invalid_request', 'the model rejected the request');
    batch.checks += 1;
    if (batch.cancelled) {
      batch.checksSinceCancel = (batch.checksSinceCancel ?? 0) + 1;
      if (batch.checksSinceCancel === 1) return { state: 'in_progress' };
      const results = batch.requests.map(({ customId }) => ({
        customId,
        kind: 'not_processed' as const,
      }));
      return { state: 'ended', results };
    }
    if (batch.checks <= this.checksBeforeEnd) return { state: 'in_progress' };
    return { state: 'ended', results: batch.requests.map((request) => this.answer(request)) };
  }

  async cancel(batchId: string): Promise<void> {
    if (this.cancelError)
      throw new ModelError(this.cancelError, 'the batch could not be cancelled');
    this.cancels.push(batchId);
    const batch = this.batches.find((b) => b.batchId === batchId);
    if (!batch) throw new ModelError('invalid_request', 'the model rejected the request');
    if (batch.checks <= this.checksBeforeEnd) batch.cancelled = true;
  }

  private answer(batchRequest: BatchRequest): BatchItemResult {
    const { customId, request } = batchRequest;
    const script = this.script(batchRequest);
    if (script.kind === 'error') {
      return { customId, kind: 'errored', error: new ModelError(script.error, 'the model failed') };
    }
    const words = script.text.split(/\s+/).filter(Boolean).slice(0, request.maxTokens);
    const prompt = [...request.system, ...request.messages.flatMap((m) => m.blocks)];
    return {
      customId,
      kind: 'succeeded',
      answer: {
        model: request.model,
        text: words.join(' '),
        stopReason: script.stopReason ?? 'end_turn',
        usage: {
          inputTokens: prompt.reduce((sum, block) => sum + estimateTokens(block.text), 0),
          outputTokens: words.length,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
        },
      },
    };
  }
}
