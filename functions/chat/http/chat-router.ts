import { isHttpMethod, Router } from '@aws-lambda-powertools/event-handler/http';
import type { RequestContext } from '@aws-lambda-powertools/event-handler/types';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import type { Principal } from '../../../shared/auth/token-verifier.js';

/** One request's own logger and metrics, so concurrent and streaming requests never mix. */
export interface RequestScope {
  /** The Lambda request id: in every log line, error body and the x-request-id header. */
  requestId: string;
  logger: Logger;
  metrics: Metrics;
  /** Milliseconds before the function is stopped. */
  remainingTimeMs: () => number;
  /**
   * When the function URL received the request (its `requestContext.timeEpoch`): before a
   * cold start, and on one clock for every instance, unlike the function's.
   */
  arrivedAtMs: number;
  /** Runs `callback` once the response has ended (for a stream: after its last byte). */
  onEnd(callback: () => void): void;
  /** The response streams on after its handler returns: it ends when `end` is called. */
  keepOpen(): () => void;
  /**
   * The request is a HEAD: its answer's body is dropped unread (`registerRoutes`), so a
   * stream need not be produced.
   */
  headOnly: boolean;
}

/** What the chat function's middlewares keep per request (Event Handler's request store). */
export type ChatEnv = {
  store: { request: { scope: RequestScope; principal: Principal } };
};

export type ChatRequestContext = RequestContext<ChatEnv>;

type StreamOptions = Parameters<Router<ChatEnv>['resolveStream']>[2];

/**
 * Event Handler's Router for the function URL. Event Handler builds a WHATWG Request
 * from the event, and a GET or HEAD with a body makes that throw before any route or
 * error handler runs (a 502); such a body means nothing, so it is dropped first. A
 * method it does not know (TRACE, PROPFIND…) it answers with an empty 405 and an error
 * log line, before any route: such a request is routed as OPTIONS instead, and the path's
 * own 405 answers it (see `unknownMethodOf`).
 */
export class ChatRouter extends Router<ChatEnv> {
  override resolveStream(event: unknown, context: Context, options: StreamOptions) {
    return super.resolveStream(routable(withoutIgnoredBody(event)), context, options);
  }
}

/** The methods Event Handler does not know, by the events they came in. */
const unknownMethods = new WeakMap<object, string>();

/** The method a request came with, when Event Handler does not know it (it is routed as OPTIONS). */
export function unknownMethodOf(event: unknown): string | undefined {
  return typeof event === 'object' && event !== null ? unknownMethods.get(event) : undefined;
}

function routable(event: unknown): unknown {
  const http = (event as Partial<LambdaFunctionURLEvent>).requestContext?.http;
  if (!http || isHttpMethod(http.method.toUpperCase())) return event;
  const { requestContext } = event as LambdaFunctionURLEvent;
  const asOptions = { ...requestContext, http: { ...http, method: 'OPTIONS' } };
  const rewritten = { ...(event as LambdaFunctionURLEvent), requestContext: asOptions };
  unknownMethods.set(rewritten, http.method);
  return rewritten;
}

function withoutIgnoredBody(event: unknown): unknown {
  const http = (event as Partial<LambdaFunctionURLEvent>).requestContext?.http;
  if (!http || !['GET', 'HEAD'].includes(http.method.toUpperCase())) return event;
  const { body: _, ...rest } = event as LambdaFunctionURLEvent;
  return { ...rest, isBase64Encoded: false };
}
