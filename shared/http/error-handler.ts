import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import { AppError } from '../domain/errors.js';
import { errorResponse } from './error-response.js';

/**
 * Turns any error into its JSON error response, logging it once: client errors at
 * info, server errors at error. 5xx bodies never carry internals.
 */
export function httpErrorHandler(loggerOf: (context: unknown) => Logger): MiddlewareObj {
  return {
    onError: async (request) => {
      const logger = loggerOf(request.context);
      const response = errorResponse(request.error);
      if (response.statusCode >= 500) {
        logger.error('request failed', { error: request.error, statusCode: response.statusCode });
      } else {
        const type = request.error instanceof AppError ? request.error.type : 'unknown';
        logger.info('request rejected', { statusCode: response.statusCode, errorType: type });
      }
      request.response = response;
    },
  };
}
