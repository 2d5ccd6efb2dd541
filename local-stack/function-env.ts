import { SETTINGS } from '../shared/config/settings.js';
import { metricsNamespaceOf } from '../shared/observability/metric-names.js';
import { LOCAL_STACK } from './dev-settings.js';

export interface LocalEndpoints {
  tableName: string;
  dynamodbEndpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  sqsEndpoint: string;
  /** The events topic, on the emulator (which serves SNS at `sqsEndpoint`). */
  eventsTopicArn?: string;
  /** The built-in local Claude; omitted when the real API is used. */
  localClaudeUrl?: string;
  /**
   * The deployed stack the local one stands for: the functions publish their metrics under its
   * namespace, as that stack's do. @default the default stackName
   */
  stackName?: string;
}

/**
 * The environment the functions get on the local stack: the same settings as on
 * AWS (see shared/config/settings.ts), pointed at the emulators, with dev secrets
 * in place of Secrets Manager ARNs. `overrides` (e.g. the shell's environment) win.
 */
export function localFunctionEnv(
  endpoints: LocalEndpoints,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const claude = endpoints.localClaudeUrl
    ? {
        ANTHROPIC_API_KEY: LOCAL_STACK.localClaudeApiKey,
        ANTHROPIC_BASE_URL: endpoints.localClaudeUrl,
      }
    : {};
  // The local Claude ends a Message Batch within a second: follow it every 2 s, not every 60.
  const localClaudeDefaults = endpoints.localClaudeUrl ? { BATCH_POLL_SECONDS: '2' } : {};
  return {
    JWT_SECRET: LOCAL_STACK.jwtSecret,
    SIGNING_KEY: LOCAL_STACK.signingKey,
    ...localClaudeDefaults,
    ...overrides,
    ...claude,
    TABLE_NAME: endpoints.tableName,
    DYNAMODB_ENDPOINT: endpoints.dynamodbEndpoint,
    JOBS_QUEUE_URL: endpoints.queueUrl,
    DEAD_LETTER_QUEUE_URL: endpoints.deadLetterQueueUrl,
    SQS_ENDPOINT: endpoints.sqsEndpoint,
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespaceOf(
      endpoints.stackName ?? SETTINGS.stackName.defaultValue!,
    ),
    ...(endpoints.eventsTopicArn && {
      EVENTS_TOPIC_ARN: endpoints.eventsTopicArn,
      SNS_ENDPOINT: endpoints.sqsEndpoint,
    }),
  };
}

/** The AWS SDK wants credentials and a region even for emulators. */
export function ensureLocalAwsEnv(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_REGION ??= 'us-east-1';
  env.AWS_ACCESS_KEY_ID ??= 'local';
  env.AWS_SECRET_ACCESS_KEY ??= 'local';
}
