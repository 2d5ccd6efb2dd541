import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { httpErrorHandler } from '../../shared/http/error-handler.js';
import { loggerOf, requestScope, type ScopedContext } from '../../shared/http/request-scope.js';
import type { ChatDependencies } from './dependencies.js';
import { matchRoute, type Route } from './router.js';
import { chatRoute } from './routes/chat.js';
import {
  deleteConversationRoute,
  getConversationRoute,
  listConversationsRoute,
  stopConversationRoute,
} from './routes/conversations.js';
import { healthRoute } from './routes/health.js';
import { createJobRoute, getJobRoute } from './routes/jobs.js';
import { usageRoute } from './routes/usage.js';

export const ROUTES: readonly Route[] = [
  healthRoute,
  chatRoute,
  listConversationsRoute,
  getConversationRoute,
  deleteConversationRoute,
  stopConversationRoute,
  usageRoute,
  createJobRoute,
  getJobRoute,
];

/**
 * The chat function: every HTTP route behind the function URL, in response-streaming
 * mode. Errors before a stream starts become JSON error responses (middy onError).
 */
export function createChatHandler(deps: ChatDependencies) {
  return middy<LambdaFunctionURLEvent, unknown, Error, Context>({
    executionMode: executionModeStreamifyResponse,
  })
    .use(requestScope(deps))
    .use(httpErrorHandler(loggerOf(deps.logger)))
    .handler(async (event, lambdaContext) => {
      const context = lambdaContext as ScopedContext;
      const { logger, metrics } = context;
      const { method, path } = event.requestContext.http;
      const { route, params } = matchRoute(ROUTES, method, path);
      const principal =
        route.authenticated === false
          ? { userId: 'anonymous' }
          : await deps.verifier.verify(event.headers[deps.settings.AUTH_TOKEN_HEADER]);
      logger.appendPersistentKeys({
        userId: principal.userId,
        route: `${route.method} ${route.path}`,
      });
      return route.handle({ deps, event, context, params, logger, metrics }, principal);
    });
}
