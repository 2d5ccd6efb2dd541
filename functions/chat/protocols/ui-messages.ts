import type { StoredMessage } from '../../../shared/domain/conversation.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { reportedUsage } from '../../../shared/domain/usage.js';
import { failureAsTold } from './failure-as-told.js';
import type { UiMessageMetadata } from './ui-message-metadata.js';

/**
 * A chat's message as `useChat` holds it (the AI SDK's `UIMessage`): a question as
 * `sendMessage({ text })` makes it, an answer as our UI message stream builds it.
 */
export interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  metadata?: UiMessageMetadata;
  parts: UiMessagePart[];
}

export type UiMessagePart =
  | { type: 'step-start' }
  | { type: 'text'; text: string; state?: 'streaming' | 'done' };

/**
 * A stored message as the stream showed it: an answer's metadata is what its `start` and
 * its end carried (the conversation and model, then its stop reason, usage and cost, a
 * failed answer's `error` too), its parts those `start-step` and the text made.
 */
export function storedUiMessage(message: StoredMessage, conversationId: string): UiMessage {
  if (message.role === 'user') {
    return { id: message.id, role: 'user', parts: [{ type: 'text', text: message.content }] };
  }
  return {
    id: message.id,
    role: 'assistant',
    metadata: {
      conversationId,
      ...(message.model && { model: message.model }),
      ...(message.stopReason && { stopReason: message.stopReason }),
      ...(message.usage && { usage: reportedUsage(message.usage, message.usageEstimated) }),
      ...(message.costNanoUsd !== undefined && { costUsd: nanoToUsd(message.costNanoUsd) }),
      ...(message.failure && { error: failureAsTold(message.failure) }),
    },
    parts: answerParts(message.content, 'done'),
  };
}

/**
 * The answer streaming, with the text its turn has saved so far, as the stream shows it
 * before its end: `resume: true` then replaces it with the replay and follows it.
 */
export function streamingUiMessage(answer: {
  id: string;
  conversationId: string;
  model?: string;
  text: string;
}): UiMessage {
  return {
    id: answer.id,
    role: 'assistant',
    metadata: {
      conversationId: answer.conversationId,
      ...(answer.model && { model: answer.model }),
    },
    parts: answerParts(answer.text, 'streaming'),
  };
}

/** An answer with no text yet (stopped or failed before it) has no text part. */
function answerParts(text: string, state: 'streaming' | 'done'): UiMessagePart[] {
  return text.length > 0
    ? [{ type: 'step-start' }, { type: 'text', text, state }]
    : [{ type: 'step-start' }];
}
