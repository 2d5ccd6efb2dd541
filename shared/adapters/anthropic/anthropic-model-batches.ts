import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { ModelError } from '../../domain/errors.js';
import { usageFromWire } from '../../gateway/wire-usage.js';
import type {
  BatchItemResult,
  BatchRequest,
  BatchState,
  ModelBatches,
} from '../../ports/model-batches.js';
import { toParams } from './anthropic-model.js';
import { modelErrorOfType, toModelError, UpstreamFailure } from './model-error.js';
import { stopReasonOf } from './stop-reason.js';

/** The ModelBatches port on Anthropic's Message Batches API. */
export class AnthropicModelBatches implements ModelBatches {
  constructor(private readonly client: Anthropic) {}

  async submit(
    requests: BatchRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<{ batchId: string }> {
    try {
      const batch = await this.client.messages.batches.create(
        {
          requests: requests.map(({ customId, request }) => ({
            custom_id: customId,
            // Non-streaming params, without a `stream` field: the API answers each as a whole.
            params: toParams(request) as MessageCreateParamsNonStreaming,
          })),
        },
        options.signal ? { signal: options.signal } : {},
      );
      return { batchId: batch.id };
    } catch (error) {
      throw toModelError(error, requests[0]?.request.model);
    }
  }

  async cancel(batchId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.client.messages.batches.cancel(
        batchId,
        {},
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      throw batchError(error);
    }
  }

  async check(batchId: string, options: { signal?: AbortSignal } = {}): Promise<BatchState> {
    const requestOptions = options.signal ? { signal: options.signal } : {};
    try {
      const batch = await this.client.messages.batches.retrieve(batchId, {}, requestOptions);
      if (batch.processing_status !== 'ended') return { state: 'in_progress' };
      const results: BatchItemResult[] = [];
      const lines = await this.client.messages.batches.results(batchId, {}, requestOptions);
      for await (const line of lines) {
        const { custom_id: customId, result } = line;
        if (result.type === 'succeeded') {
          const { message } = result;
          results.push({
            customId,
            kind: 'succeeded',
            answer: {
              model: message.model,
              text: message.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
              stopReason: stopReasonOf(message.stop_reason),
              usage: usageFromWire(message.usage),
            },
          });
        } else if (result.type === 'errored') {
          results.push({
            customId,
            kind: 'errored',
            error: modelErrorOfType(result.error.error.type, result.error.error.message),
          });
        } else {
          results.push({ customId, kind: 'not_processed' });
        }
      }
      return { state: 'ended', results };
    } catch (error) {
      throw batchError(error);
    }
  }
}

/** An error of a call about one batch, as a ModelError. */
function batchError(error: unknown): ModelError {
  // Its 404 is the batch's, not a model's: told so, and failed as any other error of the API.
  if (error instanceof Anthropic.NotFoundError) {
    return new ModelError('api_error', 'the batch is not found upstream', {
      cause: new UpstreamFailure(error),
    });
  }
  return toModelError(error);
}
