/** How a local Claude behaves; every field is optional. */
export interface LocalClaudeOptions {
  /** TCP port to listen on. @default 0 (a random free port) */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Delay before the first `content_block_delta` of a reply. @default 150 */
  timeToFirstTokenMs?: number;
  /** Pace of `text_delta` events, one per token; 0 sends them as fast as possible. @default 200 */
  tokensPerSecond?: number;
  /** Shortest prompt prefix that is cached (shorter ones are silently not cached). @default 1024 */
  minCacheableTokens?: number;
  /**
   * Accepted model ids; any other gets 404 `not_found_error`.
   * @default DEFAULT_MODELS (current Claude ids and their dated variants)
   */
  models?: string[];
  /** How long a Message Batch stays `in_progress` before its results are ready. @default 1000 */
  batchProcessingMs?: number;
  /**
   * How many of the latest requests `requests` keeps, bodies included: a local Claude serving
   * `npm start` for hours would otherwise hold every prompt it was sent.
   * @default DEFAULT_KEPT_REQUESTS (100)
   */
  keptRequests?: number;
}

/** One HTTP request the local Claude received, as it was received. */
export interface RecordedRequest {
  /** The `request-id` header of the response, `req_local_…`. */
  requestId: string;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /** The connection it came on: 1 for the first the server accepted, 2 for the next, and so on. */
  connection: number;
  /** The HTTP method, e.g. `POST`. */
  method: string;
  /** The URL path without the query, e.g. `/v1/messages/count_tokens`. */
  path: string;
  /** The query parameters (the last value of a repeated one), e.g. `{ limit: '20' }`. */
  query: Record<string, string>;
  /** Request headers, names lower-cased, repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body (set once read); the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** The body as received (set once read): what parsing would change, e.g. an integer beyond 2^53, as sent. */
  rawBody: string;
  /** True when the client closed the connection before the response ended. */
  aborted: boolean;
  /**
   * Output tokens written to the client so far: each streamed delta's tokens (a text or
   * thinking word is one, tool JSON ceil(chars / 4)), or the whole reply when not streaming.
   */
  outputTokensSent: number;
}

/** A running local Claude. */
export interface LocalClaude {
  /** Base URL for the SDK's `baseURL`, e.g. `http://127.0.0.1:4010` (no trailing slash, no `/v1`). */
  url: string;
  /** The latest requests received (`keptRequests`), oldest first; entries are updated while their response runs. */
  requests: RecordedRequest[];
  /** Stops listening and destroys every open connection, stalled streams included. */
  close(): Promise<void>;
}
