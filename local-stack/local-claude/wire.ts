import type { CacheUsage } from './prompt-cache.js';
import type { ReplyPlan } from './reply.js';

/** What a reply is about, fixed before the first byte is sent. */
export interface ReplyContext {
  messageId: string;
  model: string;
  cache: CacheUsage;
  reply: ReplyPlan;
}

/** The input side of `usage`, as in message_start and the non-streaming Message. */
export function inputUsage(cache: CacheUsage) {
  return {
    input_tokens: cache.inputTokens,
    cache_creation_input_tokens: cache.cacheCreationInputTokens,
    cache_read_input_tokens: cache.cacheReadInputTokens,
    cache_creation: {
      ephemeral_5m_input_tokens: cache.cacheCreation.ephemeral5mInputTokens,
      ephemeral_1h_input_tokens: cache.cacheCreation.ephemeral1hInputTokens,
    },
  };
}

/** A Message object; `final` false gives the empty one message_start carries. */
export function messageJson({ messageId, model, cache, reply }: ReplyContext, final: boolean) {
  const text = reply.deltas.join('');
  return {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model,
    content: final && text ? [{ type: 'text', text }] : [],
    stop_reason: final ? reply.stopReason : null,
    stop_sequence: final ? reply.stopSequence : null,
    usage: {
      ...inputUsage(cache),
      // message_start reports the first token or so; message_delta carries the real count.
      output_tokens: final ? reply.outputTokens : Math.min(1, reply.outputTokens),
      service_tier: 'standard',
    },
  };
}

/** The message_delta event: stop reason and cumulative usage. */
export function messageDeltaJson({ cache, reply }: ReplyContext) {
  return {
    type: 'message_delta',
    delta: { stop_reason: reply.stopReason, stop_sequence: reply.stopSequence },
    usage: {
      input_tokens: cache.inputTokens,
      cache_creation_input_tokens: cache.cacheCreationInputTokens,
      cache_read_input_tokens: cache.cacheReadInputTokens,
      output_tokens: reply.outputTokens,
    },
  };
}

/** One server-sent event as the API frames it. */
export const sseFrame = (event: string, data: unknown) =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
