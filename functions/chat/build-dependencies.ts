import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AnthropicModel } from '../../shared/adapters/anthropic/anthropic-model.js';
import { createDocumentClient, createSqsClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { DynamoRateLimiter } from '../../shared/adapters/dynamodb/rate-limiter.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { secretSource } from '../../shared/adapters/secrets.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { hs256Verifier, oidcVerifier } from '../../shared/auth/token-verifier.js';
import type { LoadedSettings } from '../../shared/config/load-settings.js';
import { METRICS_NAMESPACE, SERVICE } from '../../shared/observability/metric-names.js';
import type { ChatDependencies } from './dependencies.js';
import { createBudgetGauge } from './turn/budget-gauge.js';

/** Builds the real clients and adapters from validated settings. */
export function buildChatDependencies(settings: LoadedSettings): ChatDependencies {
  const documentClient = createDocumentClient(settings.DYNAMODB_ENDPOINT);
  const sqs = createSqsClient(settings.SQS_ENDPOINT);
  const anthropicApiKey = secretSource({
    name: 'Anthropic API key',
    arn: settings.ANTHROPIC_API_KEY_SECRET_ARN,
    localValue: settings.ANTHROPIC_API_KEY,
  });
  const ledger = new DynamoUsageLedger(
    documentClient,
    settings.TABLE_NAME,
    settings.GLOBAL_MONTHLY_BUDGET_USD,
  );
  return {
    settings,
    store: new DynamoConversationStore(documentClient, settings.TABLE_NAME),
    ledger,
    jobs: new DynamoJobStore(documentClient, settings.TABLE_NAME),
    queue: new SqsJobQueue(sqs, settings.JOBS_QUEUE_URL),
    rateLimiter: new DynamoRateLimiter(documentClient, settings.TABLE_NAME, {
      requestsPerMinute: settings.USER_REQUESTS_PER_MINUTE,
      tokensPerMinute: settings.USER_TOKENS_PER_MINUTE,
    }),
    sampleBudget: createBudgetGauge(ledger, settings.GLOBAL_MONTHLY_BUDGET_USD),
    model: new AnthropicModel({
      apiKey: anthropicApiKey,
      ...(settings.ANTHROPIC_BASE_URL && { baseURL: settings.ANTHROPIC_BASE_URL }),
    }),
    verifier:
      settings.AUTH_MODE === 'oidc'
        ? oidcVerifier({
            issuer: settings.JWT_ISSUER!,
            audience: settings.JWT_AUDIENCE!,
            ...(settings.JWKS_URL && { jwksUrl: settings.JWKS_URL }),
          })
        : hs256Verifier({
            secret: secretSource({
              name: 'JWT signing secret',
              arn: settings.JWT_SECRET_ARN,
              localValue: settings.JWT_SECRET,
            }),
            ...(settings.JWT_ISSUER && { issuer: settings.JWT_ISSUER }),
            ...(settings.JWT_AUDIENCE && { audience: settings.JWT_AUDIENCE }),
          }),
    logger: new Logger({ serviceName: SERVICE.chat }),
    createMetrics: () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE.chat }),
    healthChecks: {
      table: async () => {
        await documentClient.send(
          new GetCommand({ TableName: settings.TABLE_NAME, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
        );
      },
      queue: async () => {
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: settings.JOBS_QUEUE_URL,
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
