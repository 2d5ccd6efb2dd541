import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAnthropicClient } from '../../shared/adapters/anthropic/anthropic-client.js';
import { AnthropicMessagesUpstream } from '../../shared/adapters/anthropic/anthropic-messages-upstream.js';
import { AnthropicModel } from '../../shared/adapters/anthropic/anthropic-model.js';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSqsClient,
} from '../../shared/adapters/aws/clients.js';
import { DynamoApiKeyStore } from '../../shared/adapters/dynamodb/api-key-store.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { CursorCodec } from '../../shared/adapters/dynamodb/cursor.js';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { DynamoRateLimiter } from '../../shared/adapters/dynamodb/rate-limiter.js';
import { DynamoResponseCache } from '../../shared/adapters/dynamodb/response-cache.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { createSecretsProvider, secretSource } from '../../shared/adapters/secrets.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { tracedModel } from '../../shared/adapters/tracing/traced-model.js';
import { createApiKeyAuthenticator } from '../../shared/auth/api-key-authenticator.js';
import { createCredentialVerifier } from '../../shared/auth/credentials.js';
import {
  hs256Verifier,
  oidcVerifier,
  type TokenVerifier,
} from '../../shared/auth/token-verifier.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { type Clock, systemClock } from '../../shared/domain/clock.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import { METRICS_NAMESPACE, SERVICE } from '../../shared/observability/metric-names.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { MessagesUpstream } from '../../shared/ports/messages-upstream.js';
import type { Model } from '../../shared/ports/model.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { ResponseCache } from '../../shared/ports/response-cache.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { UsageRecords } from '../../shared/ports/usage-records.js';
import { createTurnRecovery } from '../../shared/turns/recover-turn.js';
import { createAdmission } from '../../shared/usage/admission.js';
import { createBudgetReserver } from '../../shared/usage/budget-reserver.js';
import { createApiKeyIssuer } from './admin/issue-api-key.js';
import { createChatApp } from './app.js';
import type { ChatRouter } from './http/chat-router.js';
import { createJobSubmission } from './jobs/submit-job.js';
import { createTokenCounting } from './messages/count-tokens.js';
import { createMessagesForwarding } from './messages/forward-messages.js';
import { createModelListing } from './messages/list-models.js';
import type { MessagesLimits } from './messages/messages-types.js';
import { createBudgetGauge } from './observability/budget-gauge.js';
import { createMessagesObserver } from './observability/messages-observer.js';
import { createTurnObserver } from './observability/turn-observer.js';
import type { HealthChecks } from './routes/health.js';
import { createChatTurn } from './turn/chat-turn.js';
import { createCompactionRequests } from './turn/compaction-requests.js';
import { createTurnCache } from './turn/turn-cache.js';
import type { TurnLimits } from './turn/turn-types.js';

/** The chat function's ports and observability, on real services. */
export interface ChatAdapters {
  store: ConversationStore;
  ledger: UsageLedger;
  rateLimiter: RateLimiter;
  jobs: JobStore;
  queue: JobQueue;
  model: Model;
  upstream: MessagesUpstream;
  apiKeys: ApiKeyStore;
  usageRecords: UsageRecords;
  responseCache: ResponseCache;
  verifier: TokenVerifier;
  healthChecks: HealthChecks;
  logger: Logger;
  createMetrics: () => Metrics;
  tracer: Tracer;
}

/** Timings that are not settings: tests shorten them. */
export interface ChatTuning {
  clock?: Clock;
  /** How often an idle stream gets a `: ping` comment. @default 15000 */
  pingIntervalMs?: number;
  /** How often a streaming turn checks for a stop request. @default 250 */
  stopPollIntervalMs?: number;
  /** A turn's hold on its conversation, renewed every quarter of it. @default 20000 */
  turnLeaseMs?: number;
  /** How often a streaming answer is saved. @default 500 */
  answerPieceIntervalMs?: number;
}

/** Builds the real clients and adapters from validated settings. */
export function createChatAdapters(settings: Settings): ChatAdapters {
  const tracer = new Tracer({ serviceName: SERVICE.chat });
  const instrument = <T>(client: T) => tracer.captureAWSv3Client(client);
  const documentClient = createDocumentClient(
    createDynamoDbClient(settings.dynamodbEndpoint, instrument),
  );
  const sqs = createSqsClient(settings.sqsEndpoint, instrument);
  let secrets: ReturnType<typeof createSecretsProvider> | undefined;
  const provider = () => {
    secrets ??= createSecretsProvider(instrument);
    return secrets;
  };
  const anthropicApiKey = secretSource({
    name: 'Anthropic API key',
    arn: settings.anthropicApiKeySecretArn,
    localValue: settings.anthropicApiKey,
    provider,
  });
  const anthropic = createAnthropicClient({
    apiKey: anthropicApiKey,
    ...(settings.anthropicBaseUrl && { baseURL: settings.anthropicBaseUrl }),
    maxRetryWaitMs: settings.maxRetryWaitMs,
  });
  const { tableName } = settings;
  const cursors = new CursorCodec(
    secretSource({
      name: 'cursor signing key',
      arn: settings.signingKeySecretArn,
      localValue: settings.signingKey,
      provider,
    }),
  );
  return {
    store: new DynamoConversationStore(documentClient, tableName, cursors),
    ledger: new DynamoUsageLedger(documentClient, tableName, settings.globalMonthlyBudgetUsd),
    rateLimiter: new DynamoRateLimiter(documentClient, tableName),
    jobs: new DynamoJobStore(documentClient, tableName),
    queue: new SqsJobQueue(sqs, settings.jobsQueueUrl!, JOBS_QUEUE_DEFINITION.maxMessageBytes),
    model: tracedModel(new AnthropicModel(anthropic), tracer),
    upstream: new AnthropicMessagesUpstream(anthropic),
    apiKeys: new DynamoApiKeyStore(documentClient, tableName, cursors),
    usageRecords: new DynamoUsageRecords(documentClient, tableName),
    responseCache: new DynamoResponseCache(documentClient, tableName),
    verifier: createVerifier(settings, provider),
    logger: new Logger({ serviceName: SERVICE.chat }),
    createMetrics: () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE.chat }),
    tracer,
    healthChecks: {
      table: async () => {
        await documentClient.send(
          new GetCommand({ TableName: tableName, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
        );
      },
      queue: async () => {
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: settings.jobsQueueUrl!,
            AttributeNames: ['QueueArn'],
          }),
        );
      },
      claude: async () => {
        await anthropicApiKey();
      },
    },
  };
}

function createVerifier(
  settings: Settings,
  provider: () => ReturnType<typeof createSecretsProvider>,
): TokenVerifier {
  const [claimName = '', claimValue = ''] = settings.adminClaim.split('=');
  const adminClaim = { name: claimName, value: claimValue };
  if (settings.authMode === 'oidc') {
    return oidcVerifier({
      maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
      adminClaim,
      issuer: settings.jwtIssuer!,
      audience: settings.jwtAudience!,
      ...(settings.jwksUrl && { jwksUrl: settings.jwksUrl }),
    });
  }
  return hs256Verifier({
    maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
    adminClaim,
    secret: secretSource({
      name: 'JWT signing secret',
      arn: settings.jwtSecretArn,
      localValue: settings.jwtSecret,
      provider,
    }),
    ...(settings.jwtIssuer && { issuer: settings.jwtIssuer }),
    ...(settings.jwtAudience && { audience: settings.jwtAudience }),
  });
}

/** The use cases on the adapters, and the HTTP app on the use cases. */
export function composeChatApp(
  settings: Settings,
  adapters: ChatAdapters,
  tuning: ChatTuning = {},
): ChatRouter {
  const { store, ledger, rateLimiter, jobs, queue, model, upstream, apiKeys } = adapters;
  const clock = tuning.clock ?? systemClock;
  const { prices } = settings;
  const admission = createAdmission({
    budget: createBudgetReserver({ ledger, prices, limits: settings }),
    ledger,
    rateLimiter,
    userRateLimits: {
      requestsPerMinute: settings.userRequestsPerMinute,
      tokensPerMinute: settings.userTokensPerMinute,
    },
  });
  const messagesLimits = messagesLimitsOf(settings);
  const recover = createTurnRecovery({ store, ledger, prices, clock });
  const chatTurn = createChatTurn({
    store,
    model,
    admission,
    recover,
    prices,
    turnCache: createTurnCache({
      cache: adapters.responseCache,
      ttlSeconds: settings.responseCacheTtlSeconds,
      scope: settings.responseCacheScope,
      onError: (error) => adapters.logger.warn('the response cache failed', { error }),
    }),
    usageRecords: adapters.usageRecords,
    compaction: createCompactionRequests({
      jobs,
      queue,
      clock,
      thresholdTokens: settings.compactionThresholdTokens,
    }),
    clock,
    limits: turnLimits(settings, tuning),
  });
  const budgetGauge = createBudgetGauge({
    ledger,
    clock,
    globalMonthlyBudgetUsd: settings.globalMonthlyBudgetUsd,
  });
  return createChatApp({
    ...adapters,
    chatTurn,
    recover,
    observeTurn: (scope) => createTurnObserver(scope, budgetGauge),
    observeMessages: (scope) => createMessagesObserver(scope, budgetGauge),
    forwardMessages: createMessagesForwarding({
      ...adapters,
      admission,
      prices,
      clock,
      limits: messagesLimits,
    }),
    countTokens: createTokenCounting({ upstream, admission, clock, limits: messagesLimits }),
    models: createModelListing({ upstream, clock, limits: messagesLimits }),
    issueApiKey: createApiKeyIssuer({ store: apiKeys, clock, models: settings.models }),
    credentials: createCredentialVerifier({
      tokens: adapters.verifier,
      apiKeys: createApiKeyAuthenticator({
        store: apiKeys,
        clock,
        onTouchFailed: (error) =>
          adapters.logger.warn("could not record an API key's last use", { error }),
      }),
    }),
    authentication: {
      tokenHeader: settings.authTokenHeader.toLowerCase(),
      adminIamPrincipals: settings.adminIamPrincipals,
    },
    submitJob: createJobSubmission({
      jobs,
      queue,
      clock,
      limits: {
        maxDocumentBytes: settings.maxDocumentBytes,
        models: settings.models,
        defaultModel: settings.defaultModel,
      },
    }),
    clock,
    limits: {
      maxMessageChars: settings.maxMessageChars,
      pingIntervalMs: tuning.pingIntervalMs ?? 15_000,
      userMonthlyBudgetUsd: settings.userMonthlyBudgetUsd,
    },
  });
}

function messagesLimitsOf(settings: Settings): MessagesLimits {
  return {
    models: settings.models,
    maxTokens: settings.messagesMaxTokens,
    allowedBetas: settings.allowedBetas,
    modelTimeoutMs: settings.modelTimeoutMs,
    modelMaxRetries: settings.modelMaxRetries,
    firstByteTimeoutMs: settings.firstByteTimeoutMs,
    streamIdleTimeoutMs: settings.streamIdleTimeoutMs,
    deadlineMarginMs: settings.deadlineMarginMs,
    cacheTtlSeconds: settings.responseCacheTtlSeconds,
    cacheScope: settings.responseCacheScope,
  };
}

function turnLimits(settings: Settings, tuning: ChatTuning): TurnLimits {
  return {
    defaultModel: settings.defaultModel,
    models: settings.models,
    ...(settings.fallbackModel && { fallbackModel: settings.fallbackModel }),
    maxOutputTokens: settings.maxOutputTokens,
    contextWindowTokens: settings.contextWindowTokens,
    modelTimeoutMs: settings.modelTimeoutMs,
    modelMaxRetries: settings.modelMaxRetries,
    firstByteTimeoutMs: settings.firstByteTimeoutMs,
    streamIdleTimeoutMs: settings.streamIdleTimeoutMs,
    deadlineMarginMs: settings.deadlineMarginMs,
    stopPollIntervalMs: tuning.stopPollIntervalMs ?? 250,
    turnLeaseMs: tuning.turnLeaseMs ?? 20_000,
    answerPieceIntervalMs: tuning.answerPieceIntervalMs ?? 500,
  };
}
