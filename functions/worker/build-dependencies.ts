import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AnthropicModel } from '../../shared/adapters/anthropic/anthropic-model.js';
import { createDocumentClient, createSqsClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { secretSource } from '../../shared/adapters/secrets.js';
import { SqsMessageActions } from '../../shared/adapters/sqs/sqs-message-actions.js';
import type { LoadedSettings } from '../../shared/config/load-settings.js';
import { METRICS_NAMESPACE, SERVICE } from '../../shared/observability/metric-names.js';
import { TABLE_DEFINITION } from '../../shared/table/definition.js';
import type { WorkerDependencies } from './dependencies.js';

/** Builds the worker's real clients and adapters from validated settings. */
export function buildWorkerDependencies(settings: LoadedSettings): WorkerDependencies {
  const documentClient = createDocumentClient(settings.DYNAMODB_ENDPOINT);
  return {
    settings,
    model: new AnthropicModel({
      apiKey: secretSource({
        name: 'Anthropic API key',
        arn: settings.ANTHROPIC_API_KEY_SECRET_ARN,
        localValue: settings.ANTHROPIC_API_KEY,
      }),
      ...(settings.ANTHROPIC_BASE_URL && { baseURL: settings.ANTHROPIC_BASE_URL }),
    }),
    ledger: new DynamoUsageLedger(
      documentClient,
      settings.TABLE_NAME,
      settings.GLOBAL_MONTHLY_BUDGET_USD,
    ),
    jobs: new DynamoJobStore(documentClient, settings.TABLE_NAME),
    conversations: new DynamoConversationStore(documentClient, settings.TABLE_NAME),
    messages: new SqsMessageActions(
      createSqsClient(settings.SQS_ENDPOINT),
      settings.JOBS_QUEUE_URL,
      settings.DEAD_LETTER_QUEUE_URL,
    ),
    // Idempotency records share the table: same keys, same TTL attribute.
    idempotencyStore: new DynamoDBPersistenceLayer({
      tableName: settings.TABLE_NAME,
      keyAttr: TABLE_DEFINITION.partitionKey.name,
      sortKeyAttr: TABLE_DEFINITION.sortKey.name,
      expiryAttr: TABLE_DEFINITION.timeToLiveAttribute,
      awsSdkV3Client: new DynamoDBClient(
        settings.DYNAMODB_ENDPOINT ? { endpoint: settings.DYNAMODB_ENDPOINT } : {},
      ),
    }),
    logger: new Logger({ serviceName: SERVICE.worker }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE.worker }),
  };
}
