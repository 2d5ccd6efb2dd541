import {
  createAnthropicClient,
  type SdkLog,
} from '../../shared/adapters/anthropic/anthropic-client.js';
import { AnthropicMessagesUpstream } from '../../shared/adapters/anthropic/anthropic-messages-upstream.js';
import { AnthropicModel } from '../../shared/adapters/anthropic/anthropic-model.js';
import { tracedModel } from '../../shared/adapters/tracing/traced-model.js';
import type { Settings } from '../../shared/config/load-settings.js';
import type { MessagesUpstream } from '../../shared/ports/messages-upstream.js';
import type { Model } from '../../shared/ports/model.js';
import type { RequestTracer } from './observability/request-tracer.js';

/** The chat function's adapters on the Anthropic API. */
export interface ModelAdapters {
  model: Model;
  upstream: MessagesUpstream;
}

/**
 * One Anthropic client for chat turns and /v1/messages (they share its connection pool).
 * A module of its own: the chat function's entry imports it in the background, so a
 * turn's first DynamoDB round trips overlap with loading the SDK.
 */
export function createModelAdapters(
  settings: Settings,
  deps: {
    apiKey: () => Promise<string>;
    /** The `fetch` whose pool holds the connection opened ahead. */
    fetch: typeof fetch;
    tracer: RequestTracer;
    log: SdkLog;
  },
): ModelAdapters {
  const { apiKey, fetch, tracer, log } = deps;
  const anthropic = createAnthropicClient({
    apiKey,
    fetch,
    log,
    ...(settings.anthropicBaseUrl && { baseURL: settings.anthropicBaseUrl }),
    maxRetryWaitMs: settings.maxRetryWaitMs,
  });
  return {
    model: tracedModel(new AnthropicModel(anthropic), tracer),
    upstream: new AnthropicMessagesUpstream(anthropic),
  };
}
