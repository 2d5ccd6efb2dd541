import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { ChatRequestContext, RequestScope } from './chat-router.js';
import { isHead } from './head.js';

/**
 * Gives each request its own child logger (with the Lambda context, the request id and
 * the route) and metrics collector, and names the request in `x-request-id` and `request-id` headers.
 * The metrics are published when the response ends, error or not: for a streaming
 * response, when its stream does.
 */
export function requestScope(options: {
  logger: Logger;
  createMetrics: () => Metrics;
}): Middleware {
  let served = false;
  return async ({ reqCtx, next }) => {
    const context = reqCtx.context;
    const logger = options.logger.createChild();
    logger.addContext(context);
    // A new logger takes its first context for the environment's cold start; its second
    // says warm. Only this environment's first request is its cold start.
    if (served) logger.addContext(context);
    served = true;
    if (reqCtx.route) logger.appendPersistentKeys({ route: reqCtx.route });
    const metrics = options.createMetrics();
    const callbacks: Array<() => void> = [
      () => {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      },
    ];
    let openStreams = 0;
    const end = () => {
      for (const callback of callbacks.splice(0).reverse()) callback();
    };
    const scope: RequestScope = {
      requestId: context.awsRequestId,
      logger,
      metrics,
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
      arrivedAtMs:
        (reqCtx.event as Partial<LambdaFunctionURLEvent>).requestContext?.timeEpoch ?? Date.now(),
      onEnd: (callback) => callbacks.push(callback),
      keepOpen: () => {
        openStreams++;
        return () => {
          if (--openStreams === 0) end();
        };
      },
      headOnly: isHead(reqCtx.req),
    };
    (reqCtx as ChatRequestContext).set('scope', scope);
    reqCtx.res.headers.set('x-request-id', scope.requestId);
    // As the Anthropic API names it: the SDKs read it (`_request_id`, `error.requestID`).
    reqCtx.res.headers.set('request-id', scope.requestId);
    try {
      await next();
    } finally {
      if (openStreams === 0) end();
    }
  };
}
