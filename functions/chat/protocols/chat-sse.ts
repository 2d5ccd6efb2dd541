import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { reportedUsage } from '../../../shared/domain/usage.js';
import type * as z from '../../../shared/validation/zod.js';
import type { StreamPosition } from '../turn/follow-turn.js';
import type { TurnEvent } from '../turn/turn-types.js';
import type { chatEventSchemas } from './chat-sse-events.js';

/**
 * Our chat stream: an `id:` line, an `event:` line and a `data:` line whose JSON repeats
 * the event name in `type`. `start`, `delta`…, then `done` or `error`. The id names the
 * answer and how much of it (UTF-16 code units) the client has with this event
 * (`msg_…:120`), and its end `msg_…:end`: sent back as `Last-Event-ID` (or `?after=`), it
 * resumes the stream right after it (a client that missed only the end gets the end), and
 * a client whose answer has ended gets the next one whole, not its tail.
 */
export function chatEventEncoder(startOffset = 0): (event: TurnEvent) => string {
  let offset = startOffset;
  let messageId: string | undefined;
  return (event) => {
    if (event.type === 'start') messageId = event.messageId;
    if (event.type === 'text') offset += event.text.length;
    // A follower told to resume again keeps its place in the answer, which goes on.
    const ends = event.type === 'done' || (event.type === 'error' && !event.answerGoesOn);
    const id = messageId ? `${messageId}:${ends ? END : offset}` : `${offset}`;
    return `id: ${id}\n${encodeChatEvent(event)}`;
  };
}

const END = 'end';
const EVENT_ID = /^(?:(msg_[a-f0-9]{32}):)?(\d{1,15})$/;
const END_EVENT_ID = /^(msg_[a-f0-9]{32}):end$/;

/**
 * Where a client is in the stream, from an event id: `msg_…:120`, `msg_…:end`, or a bare
 * offset.
 * @returns undefined for an id that is not one of ours
 */
export function parseEventId(id: string): StreamPosition | undefined {
  const ended = END_EVENT_ID.exec(id);
  if (ended) return { messageId: ended[1], offset: 0, ended: true };
  const match = EVENT_ID.exec(id);
  if (!match) return undefined;
  return { messageId: match[1], offset: Number(match[2]) };
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
        usage: reportedUsage(event.usage, event.usageEstimated),
        costUsd: nanoToUsd(event.costNanoUsd),
      });
    case 'error':
      return sse('error', {
        error: { type: event.error.type, message: event.error.message },
        retryable: event.error.retryable,
        ...(event.billed && {
          messageId: event.billed.messageId,
          usage: reportedUsage(event.billed.usage, event.billed.usageEstimated),
          costUsd: nanoToUsd(event.billed.costNanoUsd),
        }),
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
