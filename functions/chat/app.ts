import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { CredentialVerifier } from '../../shared/auth/credentials.js';
import { afterLoading } from './http/after-loading.js';
import { type AuthenticationOptions, authenticate, requireAdmin } from './http/authenticate.js';
import { ChatRouter } from './http/chat-router.js';
import { errorHandler } from './http/error-response.js';
import { lowerCaseMediaType } from './http/media-type.js';
import { privateByDefault } from './http/private-by-default.js';
import { requestScope } from './http/request-scope.js';
import { registerRoutes } from './http/route.js';
import { traceRequest } from './http/trace-request.js';
import type { RequestTracer } from './observability/request-tracer.js';
import {
  changeApiKeyLimitsRoute,
  createApiKeyRoute,
  getApiKeyRoute,
  listApiKeysRoute,
  revokeApiKeyRoute,
} from './routes/admin/api-keys.js';
import { getBudgetRoute, setBudgetRoute } from './routes/admin/budgets.js';
import { usageReportRoute } from './routes/admin/usage-report.js';
import { cancelJobRoute } from './routes/cancel-job.js';
import { chatRoute } from './routes/chat.js';
import { countTokensRoute } from './routes/count-tokens.js';
import { createJobRoute } from './routes/create-job.js';
import { deleteConversationRoute } from './routes/delete-conversation.js';
import { getConversationRoute } from './routes/get-conversation.js';
import { getJobRoute } from './routes/get-job.js';
import { healthRoute } from './routes/health.js';
import { listConversationsRoute } from './routes/list-conversations.js';
import { listJobsRoute } from './routes/list-jobs.js';
import { messagesRoute } from './routes/messages.js';
import { getModelRoute, listModelsRoute } from './routes/models.js';
import { openApiRoute } from './routes/openapi.js';
import { playgroundRoutes } from './routes/playground.js';
import { regenerateAnswerRoute } from './routes/regenerate-answer.js';
import { resumeConversationRoute } from './routes/resume-conversation.js';
import { resumeUiChatRoute } from './routes/resume-ui-chat.js';
import { stopConversationRoute } from './routes/stop-conversation.js';
import { stopUiChatRoute } from './routes/stop-ui-chat.js';
import { uiChatRoute } from './routes/ui-chat.js';
import { uiChatMessagesRoute } from './routes/ui-chat-messages.js';
import { usageRoute } from './routes/usage.js';

type RouteDependencies = Parameters<typeof healthRoute>[0] &
  Parameters<typeof chatRoute>[0] &
  Parameters<typeof listConversationsRoute>[0] &
  Parameters<typeof stopConversationRoute>[0] &
  Parameters<typeof resumeConversationRoute>[0] &
  Parameters<typeof usageRoute>[0] &
  Parameters<typeof createJobRoute>[0] &
  Parameters<typeof getJobRoute>[0] &
  Parameters<typeof listJobsRoute>[0] &
  Parameters<typeof cancelJobRoute>[0] &
  Parameters<typeof messagesRoute>[0] &
  Parameters<typeof countTokensRoute>[0] &
  Parameters<typeof listModelsRoute>[0] &
  Parameters<typeof createApiKeyRoute>[0] &
  Parameters<typeof getApiKeyRoute>[0] &
  Parameters<typeof revokeApiKeyRoute>[0] &
  Parameters<typeof changeApiKeyLimitsRoute>[0] &
  Parameters<typeof getBudgetRoute>[0] &
  Parameters<typeof usageReportRoute>[0];

export interface ChatAppDependencies extends RouteDependencies {
  logger: Logger;
  /** A fresh collector per request, published when its response ends. */
  createMetrics: () => Metrics;
  tracer: RequestTracer;
  credentials: CredentialVerifier;
  authentication: AuthenticationOptions;
  /**
   * Settles once the adapters the routes use have loaded (in the background, see
   * compose.ts): no route runs before. @default already loaded
   */
  ready?: Promise<unknown>;
}

/**
 * The chat function's HTTP API on Powertools Event Handler: one scope per request
 * (logger, metrics, request id), tracing, authentication on every route not marked
 * public (and the admin claim on admin routes), validation, one error handler
 * mapping every error to JSON, and responses no cache keeps.
 */
export function createChatApp(deps: ChatAppDependencies): ChatRouter {
  const app = new ChatRouter({ logger: deps.logger });
  app.use(privateByDefault);
  app.use(requestScope(deps));
  if (deps.ready) app.use(afterLoading(deps.ready));
  app.use(traceRequest(deps.tracer));
  app.use(lowerCaseMediaType);
  registerRoutes(
    app,
    [
      healthRoute(deps),
      openApiRoute(),
      chatRoute(deps),
      uiChatRoute(deps),
      resumeUiChatRoute(deps),
      uiChatMessagesRoute(deps),
      stopUiChatRoute(deps),
      ...playgroundRoutes(),
      listConversationsRoute(deps),
      getConversationRoute(deps),
      deleteConversationRoute(deps),
      stopConversationRoute(deps),
      resumeConversationRoute(deps),
      regenerateAnswerRoute(deps),
      usageRoute(deps),
      createJobRoute(deps),
      getJobRoute(deps),
      listJobsRoute(deps),
      cancelJobRoute(deps),
      messagesRoute(deps),
      countTokensRoute(deps),
      listModelsRoute(deps),
      getModelRoute(deps),
      createApiKeyRoute(deps),
      listApiKeysRoute(deps),
      getApiKeyRoute(deps),
      revokeApiKeyRoute(deps),
      changeApiKeyLimitsRoute(deps),
      getBudgetRoute(deps),
      setBudgetRoute(deps),
      usageReportRoute(deps),
    ],
    { authenticate: authenticate(deps.credentials, deps.authentication), requireAdmin },
  );
  app.errorHandler(Error, errorHandler(deps.logger));
  return app;
}
