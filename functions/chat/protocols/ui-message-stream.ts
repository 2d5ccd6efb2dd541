import type { StopReason } from '../../../shared/domain/conversation.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { reportedUsage } from '../../../shared/domain/usage.js';
import type * as z from '../../../shared/validation/zod.js';
import type { TurnEvent } from '../turn/turn-types.js';
import { failureAsTold } from './failure-as-told.js';
import type { UiFinishReason, UiMessageMetadata } from './ui-message-metadata.js';
import type { uiMessageStreamChunkSchemas } from './ui-message-stream-events.js';

export type { UiFinishReason, UiMessageMetadata };

/**
 * The headers of a UI message stream response: `x-vercel-ai-ui-message-stream: v1`
 * names the protocol (the AI SDK's client does not check it; other readers may).
 */
export const UI_MESSAGE_STREAM_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' } as const;

/** How the stream is framed, for the API document. */
export const UI_MESSAGE_STREAM_FRAMING =
  'Each chunk is a `data: <JSON>` line alone (no `event:` line) whose `type` names it; described here is the JSON. The stream ends with `data: [DONE]`, which is not JSON. `: ping` comments keep the connection open.';

const FINISH_REASONS = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content-filter',
  // Ended by us, not by Claude: a user's stop, a pause Claude asked for.
  stopped: 'other',
  pause_turn: 'other',
  // The answer is incomplete: a watchdog cut it, or its function died.
  timeout: 'interrupted',
  interrupted: 'interrupted',
  error: 'error',
} as const satisfies Record<StopReason, UiFinishReason>;

/** The one text part of an answer (a turn has a single text block). */
const TEXT_ID = 'text-0';

/**
 * The AI SDK's UI message stream protocol (v1) as an encoder of a turn's events:
 * `start` (message id, conversation and model as metadata), `start-step`, `text-start`,
 * `text-delta`…, `text-end`, `finish-step`, `message-metadata` (usage, cost), `finish`
 * (finish reason), then `data: [DONE]`; a failure ends with `error` (`errorText`) and
 * `[DONE]` instead, and a resumed stream that must be resumed again with `finish`
 * (`interrupted`) and no stop reason. One encoder per stream: it remembers whether a text part is open.
 */
export function uiMessageStreamEncoder(): (event: TurnEvent) => string {
  let textOpen = false;
  const closeText = () => {
    if (!textOpen) return '';
    textOpen = false;
    return chunk({ type: 'text-end', id: TEXT_ID });
  };
  return (event) => {
    switch (event.type) {
      case 'start': {
        const messageMetadata: UiMessageMetadata = {
          conversationId: event.conversationId,
          model: event.model,
        };
        return (
          chunk({ type: 'start', messageId: event.messageId, messageMetadata }) +
          chunk({ type: 'start-step' })
        );
      }
      case 'text': {
        const open = textOpen ? '' : chunk({ type: 'text-start', id: TEXT_ID });
        textOpen = true;
        return open + chunk({ type: 'text-delta', id: TEXT_ID, delta: event.text });
      }
      case 'done': {
        const messageMetadata: UiMessageMetadata = {
          stopReason: event.stopReason,
          usage: reportedUsage(event.usage, event.usageEstimated),
          costUsd: nanoToUsd(event.costNanoUsd),
        };
        return (
          closeText() +
          chunk({ type: 'finish-step' }) +
          chunk({ type: 'message-metadata', messageMetadata }) +
          chunk({ type: 'finish', finishReason: FINISH_REASONS[event.stopReason] }) +
          DONE
        );
      }
      case 'error': {
        // A resumed reader that must resume again: the answer goes on, so it has no end
        // (no stop reason) and is not failed; `interrupted` is the AI SDK's word for that.
        if (event.answerGoesOn) {
          return (
            closeText() +
            chunk({ type: 'finish-step' }) +
            chunk({ type: 'finish', finishReason: 'interrupted' }) +
            DONE
          );
        }
        // Metadata first: the AI SDK's client stops reading at the error chunk.
        const messageMetadata: UiMessageMetadata = {
          stopReason: 'error',
          error: failureAsTold(event.error),
          ...(event.billed && {
            usage: reportedUsage(event.billed.usage, event.billed.usageEstimated),
            costUsd: nanoToUsd(event.billed.costNanoUsd),
          }),
        };
        return (
          closeText() +
          chunk({ type: 'message-metadata', messageMetadata }) +
          chunk({ type: 'error', errorText: event.error.message }) +
          DONE
        );
      }
    }
  };
}

const DONE = 'data: [DONE]\n\n';

/** Each chunk as the API document describes it (ui-message-stream-events.ts). */
type UiChunk = {
  [Type in keyof UiChunkSchemas]: z.infer<UiChunkSchemas[Type]>;
}[keyof UiChunkSchemas];
type UiChunkSchemas = ReturnType<typeof uiMessageStreamChunkSchemas>;

function chunk(data: UiChunk): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}
