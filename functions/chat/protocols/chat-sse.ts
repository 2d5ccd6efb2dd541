import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import type { TurnEvent } from '../turn/turn-types.js';

/**
 * Our chat stream: an `event:` line and a `data:` line whose JSON repeats the event
 * name in `type`. `start`, `delta`…, then `done` or `error`.
 */
export function encodeChatEvent(event: TurnEvent): string {
  switch (event.type) {
    case 'start':
      return sse('start', {
        conversationId: event.conversationId,
        messageId: event.messageId,
        model: event.model,
      });
    case 'text':
      return sse('delta', { text: event.text });
    case 'done':
      return sse('done', {
        messageId: event.messageId,
        stopReason: event.stopReason,
        usage: {
          inputTokens: event.usage.inputTokens,
          outputTokens: event.usage.outputTokens,
          cacheReadInputTokens: event.usage.cacheReadInputTokens,
          cacheCreationInputTokens: event.usage.cacheCreationInputTokens,
        },
        costUsd: nanoToUsd(event.costNanoUsd),
      });
    case 'error':
      return sse('error', {
        error: { type: event.error.type, message: event.error.message },
        retryable: event.error.retryable,
      });
  }
}

function sse(name: string, data: Record<string, unknown>): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}
