/** One call to the Anthropic API on behalf of a /v1/messages caller, passed through as sent. */
export interface UpstreamCall {
  operation: 'messages' | 'count_tokens';
  body: Record<string, unknown>;
  /** `anthropic-version` and `anthropic-beta`, as the caller sent them. */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Longest wait for the response headers, per attempt. */
  timeoutMs: number;
  maxRetries: number;
  /**
   * `whileAwaitingAnswer`: set when `signal` aborts while a request is sent and awaits its
   * answer: upstream may be writing it (not when the call was only waiting to retry a
   * refusal). `brokenAfterMs`: once the call is over, how long each of its requests whose
   * connection broke while it awaited its answer had awaited it.
   */
  cut?: { whileAwaitingAnswer: boolean; brokenAfterMs?: readonly number[] };
}

/** The upstream's successful response, its body not yet read. */
export interface UpstreamResponse {
  status: number;
  contentType: string;
  /** The upstream's own request id, for support cases with Anthropic. */
  requestId?: string;
  body: ReadableStream<Uint8Array>;
}

/** A model as the upstream describes it: the fields read here, and every other it sent. */
export interface ModelInfo {
  id: string;
  display_name: string;
  created_at: string;
  type: 'model';
  /** `max_tokens`, `max_input_tokens`, `capabilities`, `lifecycle`…: public metadata, relayed as sent. */
  [field: string]: unknown;
}

/** The Anthropic API, raw: bodies and events pass through unchanged. */
export interface MessagesUpstream {
  /**
   * @throws UpstreamError for an error response (after retries), with its status and type;
   *   ModelError when no response came (timeout, connection)
   */
  send(call: UpstreamCall): Promise<UpstreamResponse>;
  /** Every model the upstream offers; retried as a model call is (`maxRetries`). */
  listModels(options: { signal: AbortSignal; maxRetries: number }): Promise<ModelInfo[]>;
}
