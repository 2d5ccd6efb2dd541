import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

/** The Lambda context plus this request's own logger and metrics. */
export interface ScopedContext extends Context {
  logger: Logger;
  metrics: Metrics;
}

/**
 * Gives each request its own child logger (with the Lambda context and request id)
 * and metrics collector, so a response that streams on after the handler returned
 * keeps logging with the right keys, and concurrent requests never mix.
 */
export function requestScope(options: {
  logger: Logger;
  createMetrics: () => Metrics;
}): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: async (request) => {
      const logger = options.logger.createChild();
      logger.addContext(request.context);
      Object.assign(request.context, { logger, metrics: options.createMetrics() });
    },
    // A request rejected before its work (a budget or rate-limit rejection) still counts.
    onError: async (request) => {
      const { metrics } = request.context as Partial<ScopedContext>;
      if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

export function loggerOf(fallback: Logger) {
  return (context: unknown): Logger => (context as Partial<ScopedContext>).logger ?? fallback;
}
