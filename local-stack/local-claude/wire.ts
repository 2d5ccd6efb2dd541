import type { Answer } from './answer.js';
import { blockWire } from './block-wire.js';
import type { CacheUsage } from './prompt-cache.js';

/** What a reply is about, fixed before the first byte is sent. */
export interface ReplyContext {
  messageId: string;
  model: string;
  cache: CacheUsage;
  answer: Answer;
  /** Where inference ran, reported back in `usage`. */
  inferenceGeo: string;
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

/** The output side of the final `usage`: tokens, the thinking part, server tool calls. */
function outputUsage(answer: Answer) {
  return {
    output_tokens: answer.outputTokens,
    ...(answer.thinkingTokens > 0 && {
      output_tokens_details: { thinking_tokens: answer.thinkingTokens },
    }),
    ...(answer.webSearches !== undefined && {
      server_tool_use: { web_search_requests: answer.webSearches, web_fetch_requests: 0 },
    }),
  };
}

/** A Message object; `final` false gives the empty one message_start carries. */
export function messageJson(
  { messageId, model, cache, answer, inferenceGeo }: ReplyContext,
  final: boolean,
) {
  return {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model,
    content: final ? answer.blocks.map((block) => blockWire(block).final) : [],
    stop_reason: final ? answer.stopReason : null,
    stop_sequence: final ? answer.stopSequence : null,
    usage: {
      ...inputUsage(cache),
      // message_start reports the first token or so; message_delta carries the real count.
      ...(final ? outputUsage(answer) : { output_tokens: Math.min(1, answer.outputTokens) }),
      service_tier: 'standard',
      inference_geo: inferenceGeo,
    },
  };
}

/** The message_delta event: stop reason and cumulative usage. */
export function messageDeltaJson({ cache, answer }: ReplyContext) {
  return {
    type: 'message_delta',
    delta: { stop_reason: answer.stopReason, stop_sequence: answer.stopSequence },
    usage: {
      input_tokens: cache.inputTokens,
      cache_creation_input_tokens: cache.cacheCreationInputTokens,
      cache_read_input_tokens: cache.cacheReadInputTokens,
      ...outputUsage(answer),
    },
  };
}

/** One server-sent event as the API frames it. */
export const sseFrame = (event: string, data: unknown) =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
