import type { ApiKeyGrant } from '../../../shared/domain/api-key.js';
import type { AppError, UpstreamError } from '../../../shared/domain/errors.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import type { RateWindow } from '../../../shared/ports/rate-limiter.js';

/** The bounds of /v1/messages, from the settings. */
export interface MessagesLimits {
  /** Every model the deployment allows. */
  models: ReadonlySet<string>;
  /** Largest max_tokens a request may ask for. */
  maxTokens: number;
  /** anthropic-beta values forwarded; `*` allows every one. */
  allowedBetas: readonly string[];
  modelTimeoutMs: number;
  modelMaxRetries: number;
  firstByteTimeoutMs: number;
  streamIdleTimeoutMs: number;
  deadlineMarginMs: number;
  /** 0: the response cache is off. */
  cacheTtlSeconds: number;
  cacheScope: 'principal' | 'deployment';
}

/** Who is calling, as authentication found them. */
export interface Caller {
  userId: string;
  apiKey?: ApiKeyGrant;
}

/**
 * How the caller asked the cache to treat the request (`cache-control` request header):
 * `refresh` (no-cache) skips the stored answer and stores the new one; `bypass`
 * (no-store) neither reads nor stores.
 */
export type CacheDirective = 'default' | 'bypass' | 'refresh';

/** Whether the answer came from the cache (`x-cache`); `off` when the cache is not on. */
export type CacheOutcome = 'hit' | 'miss' | 'bypass' | 'refresh' | 'off';

/** A /v1/messages answer, ready for HTTP: a stream of SSE text, or a JSON body. */
export type MessagesAnswer =
  | {
      kind: 'stream';
      cache: CacheOutcome;
      rateWindows: readonly RateWindow[];
      upstreamRequestId?: string;
      events: AsyncIterable<string>;
    }
  | {
      kind: 'json';
      status: number;
      cache: CacheOutcome;
      rateWindows: readonly RateWindow[];
      upstreamRequestId?: string;
      body: string;
    };

/** How one /v1/messages call ended, for metrics and the log line. */
export interface MessagesSummary {
  model: string;
  upstreamModel?: string;
  stream: boolean;
  cache: CacheOutcome;
  stopReason?: string;
  usage: TokenUsage;
  usageEstimated: boolean;
  costNanoUsd: number;
  latencyMs: number;
  /** The answer broke off: an upstream error event, a timeout, a dropped connection. */
  failure?: { type: string; message: string };
}

/** What /v1/messages reports for operators, in its own words. */
export interface MessagesObserver {
  rejected(error: AppError): void;
  /** The Anthropic API did not start answering (after the SDK's retries): its error response, or none. */
  failedToStart(error: unknown): void;
  /**
   * The Anthropic API refused the call with its stream's first event, after its 200 (passed on
   * as it came, not thrown): a call that could not start, told as an error response is.
   */
  refusedInStream(error: UpstreamError): void;
  firstToken(latencyMs: number): void;
  settlementFailed(details: { reservationId: string; error: unknown }): void;
  budgetOverrun(details: { overrunNanoUsd: number; reservationId: string }): void;
  usageNotRecorded(error: unknown): void;
  cacheFailed(error: unknown): void;
  ended(summary: MessagesSummary): Promise<void>;
}
