import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSqsClient,
  createUninstrumentedTwin,
} from '../../shared/adapters/aws/clients.js';
import { DynamoApiKeyStore } from '../../shared/adapters/dynamodb/api-key-store.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { CursorCodec } from '../../shared/adapters/dynamodb/cursor.js';
import { DynamoJobStore } from '../../shared/adapters/dynamodb/job-store.js';
import { DynamoRateLimiter } from '../../shared/adapters/dynamodb/rate-limiter.js';
import { DynamoResponseCache } from '../../shared/adapters/dynamodb/response-cache.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { createEventPublisher } from '../../shared/adapters/sns/sns-event-publisher.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import {
  hs256Verifier,
  oidcVerifier,
  type TokenVerifier,
} from '../../shared/auth/token-verifier.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { JOBS_QUEUE_DEFINITION } from '../../shared/jobs/queue-definition.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { ResponseCache } from '../../shared/ports/response-cache.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { UsageRecords } from '../../shared/ports/usage-records.js';
import { SecretSealer } from './admin/secret-sealer.js';
import type { RequestTracer } from './observability/request-tracer.js';
import type { HealthChecks } from './routes/health.js';
import type { ChatSecrets } from './secrets-ahead.js';

/** The chat function's adapters on AWS (DynamoDB, SQS, Secrets Manager). */
export interface ChatServices {
  store: ConversationStore;
  ledger: UsageLedger;
  rateLimiter: RateLimiter;
  jobs: JobStore;
  queue: JobQueue;
  /** Where job ends (a cancelled job's) are published. */
  events: EventPublisher;
  apiKeys: ApiKeyStore;
  usageRecords: UsageRecords;
  responseCache: ResponseCache;
  verifier: TokenVerifier;
  healthChecks: HealthChecks;
  /** Seals a new API key's secret for the retries of the request that made it. */
  secretSealer: SecretSealer;
  /** The deployment's Anthropic API key, from Secrets Manager (or the local value). */
  anthropicApiKey: () => Promise<string>;
}

/** What tests may watch as the adapters are made. */
export interface ChatServiceHooks {
  /** Sees each DynamoDB client (its middleware stack) before any call: the traced one first. */
  observeDynamoDb?: (client: DynamoDBClient) => void;
}

/**
 * Builds the AWS clients and the adapters on them. A module of its own: the chat
 * function's entry imports it in the background (the AWS SDK is most of its weight).
 */
export function createChatServices(
  settings: Settings,
  tracer: RequestTracer,
  secrets: ChatSecrets,
  hooks: ChatServiceHooks = {},
): ChatServices {
  const instrument = <T>(client: T) => tracer.captureAWSv3Client(client);
  const dynamodb = createDynamoDbClient(settings.dynamodbEndpoint, instrument);
  hooks.observeDynamoDb?.(dynamodb);
  const documentClient = createDocumentClient(dynamodb);
  const untraced = createUninstrumentedTwin(dynamodb, settings.dynamodbEndpoint);
  hooks.observeDynamoDb?.(untraced);
  const watchClient = createDocumentClient(untraced);
  const sqs = createSqsClient(settings.sqsEndpoint, instrument);
  const { anthropicApiKey } = secrets;
  const { tableName } = settings;
  const cursors = new CursorCodec(secrets.cursorSigningKey);
  return {
    store: new DynamoConversationStore(documentClient, tableName, cursors, watchClient),
    ledger: new DynamoUsageLedger(documentClient, tableName, settings.globalMonthlyBudgetUsd),
    rateLimiter: new DynamoRateLimiter(documentClient, tableName),
    jobs: new DynamoJobStore(documentClient, tableName, cursors),
    queue: new SqsJobQueue(sqs, settings.jobsQueueUrl!, JOBS_QUEUE_DEFINITION.maxMessageBytes),
    events: createEventPublisher(settings, instrument),
    apiKeys: new DynamoApiKeyStore(documentClient, tableName, cursors),
    usageRecords: new DynamoUsageRecords(documentClient, tableName),
    responseCache: new DynamoResponseCache(documentClient, tableName),
    verifier: createVerifier(settings, secrets),
    secretSealer: new SecretSealer(secrets.cursorSigningKey),
    anthropicApiKey,
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

function createVerifier(settings: Settings, secrets: ChatSecrets): TokenVerifier {
  const [claimName = '', claimValue = ''] = settings.adminClaim.split('=');
  const adminClaim = { name: claimName, value: claimValue };
  if (settings.authMode === 'oidc') {
    return oidcVerifier({
      maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
      clockToleranceSeconds: settings.tokenClockToleranceSeconds,
      adminClaim,
      issuer: settings.jwtIssuer!,
      audience: settings.jwtAudience!,
      // Present whenever authMode is oidc (see ChatSecrets).
      keySet: secrets.issuerKeySet!,
    });
  }
  return hs256Verifier({
    maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
    clockToleranceSeconds: settings.tokenClockToleranceSeconds,
    adminClaim,
    // Present whenever authMode is hs256 (see ChatSecrets).
    secret: secrets.jwtSecret!,
    ...(settings.jwtIssuer && { issuer: settings.jwtIssuer }),
    ...(settings.jwtAudience && { audience: settings.jwtAudience }),
  });
}
