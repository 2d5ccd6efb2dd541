import Anthropic, { type ClientOptions } from '@anthropic-ai/sdk';
import { ANTHROPIC_KEEP_ALIVE_MS, keepAliveFetch } from '../../http/keep-alive-fetch.js';
import { awaitedAttemptsFetch } from './awaited-attempts.js';
import { cappedRetryFetch } from './capped-retry-fetch.js';

export interface AnthropicClientOptions {
  /** The key, or a function that resolves it (e.g. from Secrets Manager) per request. */
  apiKey: string | (() => Promise<string>);
  /** @default the SDK's default, or ANTHROPIC_BASE_URL */
  baseURL?: string;
  /** Longest retry-after the SDK waits; a longer one fails at once. @default no cap */
  maxRetryWaitMs?: number;
  /**
   * Sends the client's requests: give the one a connection was opened ahead with.
   * @default `keepAliveFetch(ANTHROPIC_KEEP_ALIVE_MS)`
   */
  fetch?: typeof fetch;
  /** Where the SDK's warnings and errors go (its own words only). @default console */
  log?: SdkLog;
}

/** A sink for the SDK's log lines: the Powertools logger, say. */
export type SdkLog = Record<'error' | 'warn' | 'info' | 'debug', (message: string) => void>;

/** One client per function: chat turns and /v1/messages share its connection pool. */
export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  const send = options.fetch ?? keepAliveFetch(ANTHROPIC_KEEP_ALIVE_MS);
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? null,
    fetch: awaitedAttemptsFetch(
      options.maxRetryWaitMs === undefined ? send : cappedRetryFetch(options.maxRetryWaitMs, send),
    ),
    // Whatever ANTHROPIC_LOG says: its debug level logs each request's body.
    logLevel: 'warn',
    logger: ownWordsOnly(options.log ?? console),
  });
}

/**
 * The SDK's lines without the data it appends to them: with a stream event it cannot parse it
 * logs the event, the answer's text, and message text must never reach a log.
 */
function ownWordsOnly(log: SdkLog): NonNullable<ClientOptions['logger']> {
  return {
    error: (message) => log.error(message),
    warn: (message) => log.warn(message),
    info: (message) => log.info(message),
    debug: (message) => log.debug(message),
  };
}
