import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createApiKeyAuthenticator } from '../../shared/auth/api-key-authenticator.js';
import { createCredentialVerifier } from '../../shared/auth/credentials.js';
import type { TokenVerifier } from '../../shared/auth/token-verifier.js';
import { deferMembers, inBackground } from '../../shared/composition/defer.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { ANTHROPIC_API_URL } from '../../shared/config/settings.js';
import { type Clock, systemClock } from '../../shared/domain/clock.js';
import { prepareTextCuts } from '../../shared/domain/tokens.js';
import { openConnectionAhead } from '../../shared/http/connection-ahead.js';
import { ANTHROPIC_KEEP_ALIVE_MS, keepAliveFetch } from '../../shared/http/keep-alive-fetch.js';
import { METRIC, SERVICE } from '../../shared/observability/metric-names.js';
import {
  logRecoveredTurn,
  recordRecoveredSpend,
  reportUnrecordedTurn,
} from '../../shared/observability/recovered-turns.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
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
import type { ChatServiceHooks } from './adapters.js';
import { createApiKeyLimitsChanger } from './admin/change-api-key-limits.js';
import { createApiKeyIssuer } from './admin/issue-api-key.js';
import type { SecretSealer } from './admin/secret-sealer.js';
import { createChatApp } from './app.js';
import type { ChatRouter } from './http/chat-router.js';
import { createJobCancellation } from './jobs/cancel-job.js';
import { createJobSubmission } from './jobs/submit-job.js';
import { createTokenCounting } from './messages/count-tokens.js';
import { createMessagesForwarding } from './messages/forward-messages.js';
import { createModelListing } from './messages/list-models.js';
import type { MessagesLimits } from './messages/messages-types.js';
import { createMessagesObserver } from './observability/messages-observer.js';
import { isTracingOn, type RequestTracer, untraced } from './observability/request-tracer.js';
import { createTurnObserver } from './observability/turn-observer.js';
import type { HealthChecks } from './routes/health.js';
import { createChatTurn } from './turn/chat-turn.js';
import { createCompactionRequests } from './turn/compaction-requests.js';
import { createTurnFollower } from './turn/follow-turn.js';
import { createTurnCache } from './turn/turn-cache.js';
import type { TurnLimits } from './turn/turn-types.js';

/** The chat function's ports and observability, on real services. */
export interface ChatAdapters {
  store: ConversationStore;
  ledger: UsageLedger;
  rateLimiter: RateLimiter;
  jobs: JobStore;
  queue: JobQueue;
  events: EventPublisher;
  model: Model;
  upstream: MessagesUpstream;
  apiKeys: ApiKeyStore;
  usageRecords: UsageRecords;
  responseCache: ResponseCache;
  verifier: TokenVerifier;
  healthChecks: HealthChecks;
  secretSealer: SecretSealer;
  logger: Logger;
  createMetrics: () => Metrics;
  tracer: RequestTracer;
  /**
   * Settles once the adapters every route uses (AWS, tracer) have loaded and text cuts are
   * ready; rejects if they cannot.
   */
  ready: Promise<void>;
  /** Settles once every adapter has loaded, the Anthropic ones included. */
  loaded: Promise<void>;
  /**
   * Settles (never rejects) once the secrets every first request needs have been read ahead,
   * or failed to be: the requests read them again.
   */
  secretsReadAhead: Promise<void>;
  /** Settles (never rejects) once the connection to Claude opened ahead is open, or failed to be. */
  connectionAhead: Promise<void>;
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
  /** How often a resumed stream looks for more of the answer. @default 250 */
  followPollIntervalMs?: number;
}

/**
 * The adapters the chat function starts with: the logger and metrics at once; the AWS
 * adapters, the Anthropic ones and the tracer from modules imported in the background
 * from here on (an entry module without the SDKs loads in a fraction of the time; see
 * README, Benchmark). No route runs before `ready`; a model call made before the Anthropic
 * adapters have loaded waits for them.
 */
export function createChatAdapters(settings: Settings, hooks: ChatServiceHooks = {}): ChatAdapters {
  const logger = new Logger({ serviceName: SERVICE.chat });
  // Started once the entry module has been evaluated (a macrotask later), so that the
  // runtime gets its handler first and the loading runs in the background. First the secrets
  // every first request waits for: their reads are then sent before the rest loads (which
  // would hold up the AWS SDK's own lazy imports), and are under way while it does.
  const secrets = inBackground(() => import('./secrets-ahead.js')).then(({ createChatSecrets }) =>
    createChatSecrets(settings, tracing, logger),
  );
  const thenLoad = <T>(load: () => Promise<T>): Promise<T> =>
    secrets.then(
      () => inBackground(load),
      () => inBackground(load),
    );
  // Opened while the rest loads, the connection to Claude is ready long before an instance's
  // first model call, which comes after its admission's round trip, in the same pool.
  const anthropicFetch = keepAliveFetch(ANTHROPIC_KEEP_ALIVE_MS);
  const connectionAhead = thenLoad(() =>
    openConnectionAhead(settings.anthropicBaseUrl ?? ANTHROPIC_API_URL, { fetch: anthropicFetch }),
  );
  const tracing: Promise<RequestTracer> = isTracingOn(process.env)
    ? thenLoad(() => import('../../shared/adapters/tracing/create-tracer.js')).then(
        ({ createTracer }) => createTracer(SERVICE.chat),
      )
    : Promise.resolve(untraced);
  const services = Promise.all([thenLoad(() => import('./adapters.js')), tracing, secrets]).then(
    ([{ createChatServices }, tracer, chatSecrets]) =>
      createChatServices(settings, tracer, chatSecrets, hooks),
  );
  const modelAdapters = Promise.all([thenLoad(() => import('./model-adapters.js')), tracing]).then(
    ([{ createModelAdapters }, tracer]) =>
      createModelAdapters(settings, {
        apiKey: async () => (await services).anthropicApiKey(),
        fetch: anthropicFetch,
        tracer,
        log: logger,
      }),
  );
  const aws = deferMembers(services, [
    'store',
    'ledger',
    'rateLimiter',
    'jobs',
    'queue',
    'events',
    'apiKeys',
    'usageRecords',
    'responseCache',
    'verifier',
    'healthChecks',
    'secretSealer',
  ]);
  const anthropic = deferMembers(modelAdapters, ['model', 'upstream']);
  const tracer = deferMembers(
    tracing.then((value) => ({ tracer: value })),
    ['tracer'],
  );
  // Off the import (it initializes ICU), yet before any route: a turn may cut a long title
  // with it before its first token.
  const textCuts = inBackground(async () => prepareTextCuts());
  const ready = Promise.all([aws.ready, tracer.ready, textCuts]).then(() => {});
  const loaded = Promise.all([ready, anthropic.ready]).then(() => {});
  loaded.catch(() => {});
  return {
    ...aws.members,
    ...anthropic.members,
    ...tracer.members,
    logger,
    createMetrics: () =>
      new Metrics({ namespace: settings.powertoolsMetricsNamespace, serviceName: SERVICE.chat }),
    ready,
    loaded,
    secretsReadAhead: secrets.then(
      (read) => read.readAhead,
      () => {},
    ),
    connectionAhead,
  };
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
    // The hold expires and the sweep takes it back: a warning, not a page.
    onLeftHeld: (error) => adapters.logger.warn('could not give back what a call held', { error }),
  });
  const messagesLimits = messagesLimitsOf(settings);
  const recover = createTurnRecovery({
    store,
    ledger,
    usageRecords: adapters.usageRecords,
    prices,
    clock,
    // Counted with the sweep's: a dead turn the user's next turn or stop ends is one too.
    onRecovered: (turn) => {
      logRecoveredTurn(adapters.logger, turn);
      const metrics = adapters.createMetrics();
      metrics.addMetric(METRIC.turnsRecovered, MetricUnit.Count, 1);
      recordRecoveredSpend(metrics, turn);
      metrics.publishStoredMetrics();
    },
    onUsageNotRecorded: (turn, error) =>
      reportUnrecordedTurn(adapters.logger, adapters.createMetrics(), turn, error),
  });
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
  const apiKeyAuthenticator = createApiKeyAuthenticator({
    store: apiKeys,
    clock,
    onTouchFailed: (error) =>
      adapters.logger.warn("could not record an API key's last use", { error }),
  });
  return createChatApp({
    ...adapters,
    chatTurn,
    recover,
    followTurn: createTurnFollower({
      store,
      recover,
      admission,
      clock,
      limits: {
        pollIntervalMs: tuning.followPollIntervalMs ?? 250,
        deadlineMarginMs: settings.deadlineMarginMs,
      },
    }),
    observeTurn: createTurnObserver,
    observeMessages: createMessagesObserver,
    forwardMessages: createMessagesForwarding({
      ...adapters,
      admission,
      prices,
      clock,
      limits: messagesLimits,
    }),
    countTokens: createTokenCounting({
      upstream,
      admission,
      prices,
      clock,
      limits: messagesLimits,
    }),
    models: createModelListing({ upstream, clock, limits: messagesLimits }),
    issueApiKey: createApiKeyIssuer({
      store: apiKeys,
      clock,
      models: settings.models,
      sealer: adapters.secretSealer,
    }),
    credentials: createCredentialVerifier({
      tokens: adapters.verifier,
      apiKeys: apiKeyAuthenticator,
    }),
    noteApiKeyRevoked: (key) => apiKeyAuthenticator.noteRevoked(key),
    changeApiKeyLimits: createApiKeyLimitsChanger({ store: apiKeys, models: settings.models }),
    noteApiKeyChanged: (key) => apiKeyAuthenticator.noteChanged(key),
    authentication: {
      tokenHeader: settings.authTokenHeader.toLowerCase(),
      adminIamPrincipals: settings.adminIamPrincipals,
    },
    cancelJob: createJobCancellation({
      jobs,
      events: adapters.events,
      clock,
      onNotPublished: (error, event) => {
        adapters.logger.warn('could not publish an event', { event, error });
        const count = adapters.createMetrics().singleMetric();
        count.addMetric(METRIC.eventsNotPublished, MetricUnit.Count, 1);
      },
    }),
    submitJob: createJobSubmission({
      jobs,
      queue,
      clock,
      prices: settings.prices,
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
    streamIdleTimeoutMs: settings.messagesStreamIdleTimeoutMs,
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
