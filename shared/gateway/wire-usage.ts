import type { TokenUsage } from '../domain/usage.js';

/** `usage` as the Messages API reports it, in message_start, message_delta and a message. */
export interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number | null;
    ephemeral_1h_input_tokens?: number | null;
  } | null;
  server_tool_use?: {
    web_search_requests?: number | null;
    /** Free: a fetch costs only the tokens of what it fetched. */
    web_fetch_requests?: number | null;
  } | null;
  inference_geo?: string | null;
}

export function usageFromWire(usage: WireUsage | null | undefined): TokenUsage {
  return mergeWireUsage(
    { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    usage,
  );
}

/** message_delta usage is cumulative: a field it carries replaces the one before, others stay. */
export function mergeWireUsage(
  current: TokenUsage,
  delta: WireUsage | null | undefined,
): TokenUsage {
  const count = (value: unknown, previous: number | undefined) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : (previous ?? 0);
  const webSearchRequests = count(
    delta?.server_tool_use?.web_search_requests,
    current.webSearchRequests,
  );
  const inferenceGeo =
    typeof delta?.inference_geo === 'string' ? delta.inference_geo : current.inferenceGeo;
  return {
    inputTokens: count(delta?.input_tokens, current.inputTokens),
    outputTokens: count(delta?.output_tokens, current.outputTokens),
    cacheReadInputTokens: count(delta?.cache_read_input_tokens, current.cacheReadInputTokens),
    cacheCreationInputTokens: count(
      delta?.cache_creation_input_tokens,
      current.cacheCreationInputTokens,
    ),
    cacheCreation1hInputTokens: count(
      delta?.cache_creation?.ephemeral_1h_input_tokens,
      current.cacheCreation1hInputTokens,
    ),
    ...(webSearchRequests > 0 && { webSearchRequests }),
    ...(inferenceGeo !== undefined && { inferenceGeo }),
  };
}
