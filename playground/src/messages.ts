import type { UIMessage } from 'ai';
import type { UiMessageMetadata } from '../../functions/chat/protocols/ui-message-metadata.js';
import type { StoredMessage } from './api.js';

export type Message = UIMessage<UiMessageMetadata>;

export function textOf(message: Message): string {
  return message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The stored conversation as `useChat` messages. */
export function toMessages(stored: StoredMessage[]): Message[] {
  return stored.map((message) => ({
    id: message.id,
    role: message.role,
    parts: [{ type: 'text', text: message.content }],
    ...(message.role === 'assistant' && {
      metadata: {
        ...(message.model && { model: message.model }),
        ...(message.stopReason && {
          stopReason: message.stopReason as UiMessageMetadata['stopReason'],
        }),
        ...(message.usage && {
          usage: { cacheReadInputTokens: 0, cacheCreationInputTokens: 0, ...message.usage },
        }),
        ...(message.costUsd !== undefined && { costUsd: message.costUsd }),
        ...(message.error && { error: message.error as UiMessageMetadata['error'] }),
      },
    }),
  }));
}
