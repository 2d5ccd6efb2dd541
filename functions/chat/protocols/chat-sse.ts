import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { reportedUsage } from '../../../shared/domain/usage.js';
import type * as z from '../../../shared/validation/zod.js';
import type { TurnEvent } from '../turn/turn-types.js';
import type { chatEventSchemas } from './chat-sse-events.js';

/**
 * Our chat stream: an `id:` line, an `event:` line and a `data:` line whose JSON repeats
 * the event name in `type`. `start`, `delta`…, then `done` or `error`. The id is how much
 * of the answer (UTF-16 code units) the client has with this event: sent back as
 * `Last-Event-ID` (or `?after=`), it resumes the stream right after it.
 */
export function chatEventEncoder(startOffset = 0): (event: TurnEvent) => string {
  let offset = startOffset;
  return (event) => {
    if (event.type === 'text') offset += event.text.length;
    return `id: ${offset}\n${encodeChatEvent(event)}`;
  };
}

function encodeChatEvent(event: TurnEvent): string {
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
        usage: reportedUsage(event.usage),
        costUsd: nanoToUsd(event.costNanoUsd),
      });
    case 'error':
      return sse('error', {
        error: { type: event.error.type, message: event.error.message },
        retryable: event.error.retryable,
      });
  }
}

/** Each event's data as the API document describes it (chat-sse-events.ts), but `type`. */
type ChatEventData = {
  [Name in keyof ChatEventSchemas]: Omit<z.infer<ChatEventSchemas[Name]>, 'type'>;
};
type ChatEventSchemas = ReturnType<typeof chatEventSchemas>;

function sse<Name extends keyof ChatEventData>(name: Name, data: ChatEventData[Name]): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}
