import type { CfnTemplate } from './synth.js';

/**
 * What a CloudFormation update may not change about a resource a live deployment holds.
 *
 * CloudFormation knows a resource by its logical id: a new id is a new resource (created
 * empty, the old one deleted or, retained, orphaned). And it replaces a resource whose
 * property marked "Update requires: Replacement" changes (the CloudFormation resource
 * reference; `cdk diff` reads the same marks from the CLI's service spec). CDK's own
 * guideline: never change the logical id of a stateful resource.
 */
export interface LiveResource {
  readonly type: string;
  /** What is lost or broken when it is replaced. */
  readonly loss: string;
}

/** Every resource a live deployment holds data or an address in, by logical id, as deployed today. */
export const LIVE_RESOURCES: Record<string, LiveResource> = {
  DataTableFDBAD0F2: {
    type: 'AWS::DynamoDB::Table',
    loss: 'the table: every conversation, budget, spend record, API key and job. A new id creates a new, empty table and the app moves to it; the old one, retained, is orphaned with all the data',
  },
  SecretsAnthropicApiKeyF6E99229: {
    type: 'AWS::SecretsManager::Secret',
    loss: 'the Anthropic key secret: a new one holds the placeholder, and every model call fails until the operator puts the key again',
  },
  SecretsJwtSecret1DEFB471: {
    type: 'AWS::SecretsManager::Secret',
    loss: 'the JWT signing secret: a new one is generated, so every token the issuer signed with the old one is refused (401)',
  },
  SecretsSigningKey427004F6: {
    type: 'AWS::SecretsManager::Secret',
    loss: 'the cursor signing key: a new one is generated, so every page cursor handed out is refused',
  },
  JobsQueue24944186: {
    type: 'AWS::SQS::Queue',
    loss: 'the jobs queue: the jobs waiting on it are lost, and producers sending to its URL fail',
  },
  JobsDeadLetterQueue8CC426EE: {
    type: 'AWS::SQS::Queue',
    loss: 'the dead-letter queue: the failed jobs kept for inspection and redrive are lost',
  },
  JobsWorkerFunctionSqsEventSourceClaudeServerlessJobsQueueF41D2CFB4C458D72: {
    type: 'AWS::Lambda::EventSourceMapping',
    loss: "the worker's subscription to the jobs queue: CloudFormation creates the new mapping before deleting the old, and Lambda refuses a second mapping of the same queue to the same function, so the deploy fails",
  },
  JobEventsTopic52ABB74C: {
    type: 'AWS::SNS::Topic',
    loss: "the events topic: a new topic has a new ARN and none of the producers' subscriptions",
  },
  JobEventsTopicKey9497135A: {
    type: 'AWS::KMS::Key',
    loss: "the events topic's key: subscribers granted the old key (an SQS queue of another account) stop receiving",
  },
  ObservabilityAlarmTopicF724909D: {
    type: 'AWS::SNS::Topic',
    loss: 'the alarm topic: a new topic has a new ARN and none of the pager and chat subscriptions, so alarms reach no one',
  },
  ObservabilityAlarmTopicKey48516DE9: {
    type: 'AWS::KMS::Key',
    loss: "the alarm topic's key",
  },
  ChatApiChatFunctionF0978BF0: {
    type: 'AWS::Lambda::Function',
    loss: 'the chat function: a new function has a new name and ARN, so its function URL is replaced too (see there), and IAM callers granted on the old ARN are refused',
  },
  ChatApiChatFunctionFunctionUrl705957A3: {
    type: 'AWS::Lambda::Url',
    loss: 'the function URL: a new one has a new address, so every client, SDK base URL and Claude Code setup breaks',
  },
  JobsWorkerFunctionD9840A42: {
    type: 'AWS::Lambda::Function',
    loss: 'the worker: a new function has a new name (its queue mapping follows it), so whatever an operator set up by its name (log queries, subscriptions to its logs, IAM conditions) misses it',
  },
  MaintenanceSweeperFunctionE12CF727: {
    type: 'AWS::Lambda::Function',
    loss: 'the maintenance function: a new function has a new name, so whatever an operator set up by its name misses it',
  },
  ChatApiChatLogGroup81ED739B: {
    type: 'AWS::Logs::LogGroup',
    loss: "the chat function's log group: a new one starts empty, the old one (retained) keeps the history the runbook queries read",
  },
  JobsWorkerLogGroup00302A6C: {
    type: 'AWS::Logs::LogGroup',
    loss: "the worker's log group: a new one starts empty, the old one (retained) keeps the history",
  },
  MaintenanceSweeperLogGroup7EEAB30A: {
    type: 'AWS::Logs::LogGroup',
    loss: "the sweep's log group: a new one starts empty, the old one (retained) keeps the history",
  },
};

/** Resource types that hold data or an address: each one in the template must be listed above. */
export const LIVE_TYPES = new Set(Object.values(LIVE_RESOURCES).map((resource) => resource.type));

/**
 * Properties whose change replaces the resource ("Update requires: Replacement"), or, updated
 * in place, throws away what it holds: a changed SecretString or GenerateSecretString writes a
 * new value over the live one (the operator's Anthropic key, the JWT secret), a changed TTL
 * attribute leaves every item written before never expiring, and a GSI's keys cannot change
 * in place at all (the update fails: a new index goes under a new name).
 */
export const UNCHANGEABLE_PROPERTIES: Record<string, readonly string[]> = {
  'AWS::DynamoDB::Table': [
    'TableName',
    'KeySchema',
    'ImportSourceSpecification',
    'TimeToLiveSpecification',
    'GlobalSecondaryIndexes',
  ],
  'AWS::SecretsManager::Secret': ['Name', 'SecretString', 'GenerateSecretString'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'MultiRegion'],
  'AWS::Lambda::Function': ['FunctionName', 'PackageType', 'TenancyConfig'],
  'AWS::Lambda::Url': ['TargetFunctionArn', 'Qualifier'],
  'AWS::Lambda::EventSourceMapping': ['EventSourceArn', 'StartingPosition'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
};

/** A live resource as CloudFormation decides its fate: its type and its unchangeable properties. */
export function identityOf(template: CfnTemplate, id: string): Record<string, unknown> | undefined {
  const resource = template.Resources[id];
  if (!resource) return undefined;
  const properties = resource.Properties ?? {};
  const kept = (UNCHANGEABLE_PROPERTIES[resource.Type] ?? []).filter((key) => key in properties);
  return {
    Type: resource.Type,
    ...Object.fromEntries(kept.map((key) => [key, properties[key]])),
  };
}
