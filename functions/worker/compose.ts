import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { createAnthropicClient } from '../../shared/adapters/anthropic/anthropic-client.js';
import { AnthropicModel } from '../../shared/adapters/anthropic/anthropic-model.js';
import { AnthropicModelBatches } from '../../shared/adapters/anthropic/anthropic-model-batches.js';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSqsClient,
} from '../../shared/adapters/aws/clients.js';
import { DynamoApiKeyStore } from '../../shared/adapters/dynamodb/api-key-store.js';
import { DynamoBudgetNotices } from '../../shared/adapters/dynamodb/budget-notices.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { anthropicApiKeySource, createSecretsProvider } from '../../shared/adapters/secrets.js';
import { createEventPublisher } from '../../shared/adapters/sns/sns-event-publisher.js';
import { SqsMessageActions } from '../../shared/adapters/sqs/sqs-message-actions.js';
import { createTracer } from '../../shared/adapters/tracing/create-tracer.js';
import { tracedModel } from '../../shared/adapters/tracing/traced-model.js';
import { createBudgetWatch } from '../../shared/budget/budget-watch.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { type Clock, systemClock } from '../../shared/domain/clock.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { BudgetNotices } from '../../shared/ports/budget-notices.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { MessageActions } from '../../shared/ports/message-actions.js';
import type { Model } from '../../shared/ports/model.js';
import type { ModelBatches } from '../../shared/ports/model-batches.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { UsageRecords } from '../../shared/ports/usage-records.js';
import { TABLE_DEFINITION } from '../../shared/table/definition.js';
import { createBudgetReserver } from '../../shared/usage/budget-reserver.js';
import { createWorkerHandler } from './app.js';
import { createBatchRounds } from './batch-rounds.js';
import { createConversationCompactor } from './compact-conversation.js';
import { createJobKeyGrant } from './job-key.js';
import { createJobCallRecorder } from './job-usage.js';
import { createMeteredModel } from './metered-model.js';
import { createJobObserver } from './observability.js';
import { createRecordHandler } from './process-record.js';
import { createJobRunner } from './run-job.js';
import { runOnce } from './run-once.js';
import { createStandardRounds } from './standard-rounds.js';
import { createDocumentSummarizer } from './summarize-document.js';

/** The worker's ports and observability, on real services. */
export interface WorkerAdapters {
  model: Model;
  batches: ModelBatches;
  events: EventPublisher;
  budgetNotices: BudgetNotices;
  ledger: UsageLedger;
  usageRecords: UsageRecords;
  /** Read for the key a job was asked for with: its budget, and whether it still holds. */
  apiKeys: Pick<ApiKeyStore, 'get'>;
  jobs: JobStore;
  conversations: ConversationStore;
  messages: MessageActions;
  idempotencyStore: BasePersistenceLayer;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/** Builds the worker's real clients and adapters from validated settings. */
export function createWorkerAdapters(settings: Settings): WorkerAdapters {
  const tracer = createTracer(SERVICE.worker);
  const instrument = <T>(client: T) => tracer.captureAWSv3Client(client);
  const dynamodb = createDynamoDbClient(settings.dynamodbEndpoint, instrument);
  const documentClient = createDocumentClient(dynamodb);
  const { tableName } = settings;
  const logger = new Logger({ serviceName: SERVICE.worker });
  const anthropic = createAnthropicClient({
    apiKey: anthropicApiKeySource({
      arn: settings.anthropicApiKeySecretArn,
      localValue: settings.anthropicApiKey,
      provider: () => createSecretsProvider(instrument),
    }),
    ...(settings.anthropicBaseUrl && { baseURL: settings.anthropicBaseUrl }),
    maxRetryWaitMs: settings.maxRetryWaitMs,
    log: logger,
  });
  return {
    model: tracedModel(new AnthropicModel(anthropic), tracer),
    batches: new AnthropicModelBatches(anthropic),
    events: createEventPublisher(settings, instrument),
    budgetNotices: new DynamoBudgetNotices(documentClient, tableName),
    ledger: new DynamoUsageLedger(documentClient, tableName, settings.globalMonthlyBudgetUsd),
    usageRecords: new DynamoUsageRecords(documentClient, tableName),
    apiKeys: new DynamoApiKeyStore(documentClient, tableName),
    jobs: new DynamoJobStore(documentClient, tableName),
    conversations: new DynamoConversationStore(documentClient, tableName),
    messages: new SqsMessageActions(
      createSqsClient(settings.sqsEndpoint, instrument),
      settings.jobsQueueUrl!,
      settings.deadLetterQueueUrl,
      JOBS_QUEUE_DEFINITION.maxMessageBytes,
    ),
    // Idempotency records share the table: same keys, same TTL attribute.
    idempotencyStore: new DynamoDBPersistenceLayer({
      tableName,
      keyAttr: TABLE_DEFINITION.partitionKey.name,
      sortKeyAttr: TABLE_DEFINITION.sortKey.name,
      expiryAttr: TABLE_DEFINITION.timeToLiveAttribute,
      awsSdkV3Client: dynamodb,
    }),
    logger,
    metrics: new Metrics({
      namespace: settings.powertoolsMetricsNamespace,
      serviceName: SERVICE.worker,
    }),
    tracer,
  };
}

/** The worker's use cases on the adapters, and its SQS handler on the use cases. */
export function composeWorker(
  settings: Settings,
  adapters: WorkerAdapters,
  tuning: { clock?: Clock } = {},
) {
  const { model, ledger, jobs, conversations, events, logger, metrics } = adapters;
  const clock = tuning.clock ?? systemClock;
  const observer = createJobObserver(logger, metrics);
  const budget = createBudgetReserver({ ledger, prices: settings.prices, limits: settings });
  const keyGrant = createJobKeyGrant({ apiKeys: adapters.apiKeys, clock });
  const recordCall = createJobCallRecorder({
    usageRecords: adapters.usageRecords,
    clock,
    observer,
  });
  const complete = createMeteredModel({
    model,
    budget,
    keyGrant,
    ledger,
    prices: settings.prices,
    clock,
    observer,
    recordCall,
    limits: settings,
  });
  const summarizeDocument = createDocumentSummarizer({ limits: settings, prices: settings.prices });
  const budgetWatch = createBudgetWatch({
    ledger,
    notices: adapters.budgetNotices,
    events,
    clock,
    limits: settings,
  });
  const afterSpend = async (userId: string) => {
    await Promise.all([budgetWatch.principal(userId), budgetWatch.deployment()]);
  };
  const runJob = createJobRunner({
    jobs,
    summarizeDocument,
    compactConversation: createConversationCompactor({
      conversations,
      summarize: summarizeDocument,
    }),
    rounds: {
      standard: createStandardRounds({ complete, limits: settings }),
      batch: createBatchRounds({
        batches: adapters.batches,
        jobs,
        budget,
        keyGrant,
        ledger,
        prices: settings.prices,
        clock,
        observer,
        recordCall,
        limits: settings,
      }),
    },
    events,
    afterSpend,
    clock,
    observer,
  });
  return createWorkerHandler({
    ...adapters,
    handleRecord: createRecordHandler({
      runJob: runOnce(runJob, adapters.idempotencyStore),
      jobs,
      messages: adapters.messages,
      events,
      afterSpend,
      clock,
      observer,
      limits: settings,
    }),
  });
}
