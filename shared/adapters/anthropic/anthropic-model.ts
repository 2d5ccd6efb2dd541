import { setTimeout as sleep } from 'node:timers/promises';
import type Anthropic from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsBase,
  RawMessageStreamEvent,
  TextBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { ModelError } from '../../domain/errors.js';
import { retryDelayMs } from '../../domain/retry-delay.js';
import type { TokenUsage } from '../../domain/usage.js';
import { mergeWireUsage, usageFromWire } from '../../gateway/wire-usage.js';
import type {
  Model,
  ModelAnswer,
  ModelRequest,
  ModelStream,
  ModelStreamEvent,
  PromptBlock,
} from '../../ports/model.js';
import { toModelError } from './model-error.js';
import { stopReasonOf } from './stop-reason.js';

/** The Model port on the Anthropic Messages API. */
export class AnthropicModel implements Model {
  constructor(private readonly client: Anthropic) {}

  /**
   * Opens the stream, retrying (as many times as the SDK would, with its back-off) a
   * failure that came after the 200 but before message_start: the API sheds load so, an
   * `event: error` (`overloaded_error`) as the stream's first event, which the SDK, whose
   * retries look at the status alone, does not retry. Nothing was generated or shown yet.
   */
  async openStream(request: ModelRequest): Promise<ModelStream> {
    const maxRetries = request.maxRetries ?? this.client.maxRetries;
    for (let retry = 0; ; retry++) {
      const opened = await this.openOnce(request);
      if (!('failedFirstEvent' in opened)) return opened;
      const failure = opened.failedFirstEvent;
      if (retry >= maxRetries || !failure.retryable || request.signal?.aborted) throw failure;
      const waited = await sleep(retryDelayMs(retry), true, { signal: request.signal }).catch(
        () => false,
      );
      if (!waited) throw failure;
    }
  }

  private async openOnce(
    request: ModelRequest,
  ): Promise<ModelStream | { failedFirstEvent: ModelError }> {
    let iterator: AsyncIterator<RawMessageStreamEvent>;
    try {
      const stream = await this.client.messages.create(
        { ...toParams(request), stream: true },
        requestOptions(request),
      );
      iterator = stream[Symbol.asyncIterator]();
    } catch (error) {
      // The SDK has retried what its rules retry.
      throw toModelError(error, request.model);
    }
    try {
      const first = await iterator.next();
      if (first.done || first.value.type !== 'message_start') {
        throw new Error('the model stream did not begin with message_start');
      }
      const { message } = first.value;
      return {
        model: message.model,
        initialUsage: usageFromWire(message.usage),
        [Symbol.asyncIterator]: () => translate(iterator, usageFromWire(message.usage)),
      };
    } catch (error) {
      const failure = toModelError(error, request.model);
      // Our own abort (a stop, a watchdog) is not the upstream's failure.
      if (request.signal?.aborted || failure.kind === 'timeout') throw failure;
      return { failedFirstEvent: failure };
    }
  }

  async complete(request: ModelRequest): Promise<ModelAnswer> {
    try {
      const message = await this.client.messages.create(
        { ...toParams(request), stream: false },
        requestOptions(request),
      );
      return {
        model: message.model,
        text: message.content.map((block) => (block.type === 'text' ? block.text : '')).join(''),
        stopReason: stopReasonOf(message.stop_reason),
        usage: usageFromWire(message.usage),
      };
    } catch (error) {
      throw toModelError(error, request.model);
    }
  }
}

async function* translate(
  iterator: AsyncIterator<RawMessageStreamEvent>,
  initialUsage: TokenUsage,
): AsyncGenerator<ModelStreamEvent> {
  let usage = initialUsage;
  let thinking = false;
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const event = next.value;
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        yield { type: 'text', text: event.delta.text };
      } else if (isThinking(event)) {
        thinking = true;
        yield { type: 'thinking' };
      } else if (thinking && event.type === 'content_block_stop') {
        thinking = false;
        yield { type: 'thought' };
      } else if (event.type === 'message_delta') {
        usage = mergeWireUsage(usage, event.usage);
        yield { type: 'usage', usage };
        if (event.delta.stop_reason) {
          yield { type: 'stop', stopReason: stopReasonOf(event.delta.stop_reason) };
        }
      } else if (event.type === 'message_stop') {
        return;
      }
    }
    // A clean end without message_stop is a broken stream, not a finished answer.
    throw new Error('the model stream ended before message_stop');
  } catch (error) {
    throw toModelError(error);
  } finally {
    await iterator.return?.();
  }
}

/** A thinking block's start, or any of its deltas (its text, its signature). */
function isThinking(event: RawMessageStreamEvent): boolean {
  if (event.type === 'content_block_start') {
    return (
      event.content_block.type === 'thinking' || event.content_block.type === 'redacted_thinking'
    );
  }
  return (
    event.type === 'content_block_delta' &&
    (event.delta.type === 'thinking_delta' || event.delta.type === 'signature_delta')
  );
}

/** A request in the Messages API's shape (the Batches API takes the same params). */
export function toParams(
  request: Pick<ModelRequest, 'model' | 'system' | 'messages' | 'maxTokens'>,
): MessageCreateParamsBase {
  return {
    model: request.model,
    max_tokens: request.maxTokens,
    ...(request.system.length > 0 && { system: request.system.map(toTextBlock) }),
    messages: request.messages.map((message) => ({
      role: message.role,
      content: message.blocks.map(toTextBlock),
    })),
  };
}

function toTextBlock(block: PromptBlock): TextBlockParam {
  return {
    type: 'text',
    text: block.text,
    ...(block.cache && { cache_control: { type: 'ephemeral' } }),
  };
}

function requestOptions(request: ModelRequest) {
  return {
    ...(request.signal && { signal: request.signal }),
    ...(request.timeoutMs !== undefined && { timeout: request.timeoutMs }),
    ...(request.maxRetries !== undefined && { maxRetries: request.maxRetries }),
  };
}
