import type { AwsCall } from './aws-calls.js';

/** What AWS authorizes one call by: an IAM action on a resource (an ARN, or a template token). */
export interface IamRequirement {
  action: string;
  resource: string;
}

/** The stack's resource a local name or URL stands for, as an ARN token (see iam-policy.ts). */
export interface ResourceResolver {
  table(name: string): string;
  queue(url: string): string;
  topic(arn: string): string;
  secret(id: string): string;
}

const DYNAMODB_ACTION: Record<string, string> = {
  Get: 'GetItem',
  GetItem: 'GetItem',
  Put: 'PutItem',
  PutItem: 'PutItem',
  Update: 'UpdateItem',
  UpdateItem: 'UpdateItem',
  Delete: 'DeleteItem',
  DeleteItem: 'DeleteItem',
  Query: 'Query',
  Scan: 'Scan',
  BatchGet: 'BatchGetItem',
  BatchGetItem: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  BatchWriteItem: 'BatchWriteItem',
  DescribeTable: 'DescribeTable',
};

/** A transaction is authorized item by item, each by its own kind's action. */
const TRANSACT_ITEM_ACTION: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** Batch calls are authorized by the single action (SendMessageBatch needs sqs:SendMessage). */
const SQS_ACTION: Record<string, string> = {
  SendMessage: 'SendMessage',
  SendMessageBatch: 'SendMessage',
  ReceiveMessage: 'ReceiveMessage',
  DeleteMessage: 'DeleteMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibility: 'ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  GetQueueAttributes: 'GetQueueAttributes',
  GetQueueUrl: 'GetQueueUrl',
};

/**
 * The IAM actions and resources one recorded call needs (https://docs.aws.amazon.com/service-authorization/latest/reference/).
 * Key use behind an encrypted resource is added by the caller, which knows the keys.
 * Throws for a client or command it has no mapping for: a new kind of call must be mapped
 * here before the coverage test can pass.
 */
export function requirementsOf(call: AwsCall, resolve: ResourceResolver): IamRequirement[] {
  const command = call.command.replace(/Command$/, '');
  const input = call.input;
  switch (call.client) {
    case 'DynamoDBClient':
    case 'DynamoDBDocumentClient':
      return dynamodbRequirements(command, input, resolve);
    case 'SQSClient': {
      const action = SQS_ACTION[command];
      if (!action) break;
      return [{ action: `sqs:${action}`, resource: resolve.queue(String(input.QueueUrl)) }];
    }
    case 'SNSClient':
      if (command !== 'Publish') break;
      return [{ action: 'sns:Publish', resource: resolve.topic(String(input.TopicArn)) }];
    case 'SecretsManagerClient':
      if (command !== 'GetSecretValue') break;
      return [
        {
          action: 'secretsmanager:GetSecretValue',
          resource: resolve.secret(String(input.SecretId)),
        },
      ];
  }
  throw new Error(
    `no IAM mapping for ${call.client} ${call.command}: add it to iam-requirements.ts`,
  );
}

function dynamodbRequirements(
  command: string,
  input: Record<string, unknown>,
  resolve: ResourceResolver,
): IamRequirement[] {
  if (command === 'TransactWrite' || command === 'TransactWriteItems') {
    return (input.TransactItems as Record<string, { TableName: string }>[]).map((item) => {
      const [kind, operation] = Object.entries(item)[0]!;
      return {
        action: `dynamodb:${TRANSACT_ITEM_ACTION[kind]}`,
        resource: resolve.table(operation.TableName),
      };
    });
  }
  const action = DYNAMODB_ACTION[command];
  if (!action)
    throw new Error(`no IAM mapping for DynamoDB ${command}: add it to iam-requirements.ts`);
  if (action === 'BatchGetItem' || action === 'BatchWriteItem') {
    return Object.keys(input.RequestItems as object).map((table) => ({
      action: `dynamodb:${action}`,
      resource: resolve.table(table),
    }));
  }
  const table = resolve.table(String(input.TableName));
  // A Query or Scan of an index is authorized on the index's ARN, not the table's.
  const resource = input.IndexName ? `${table}/index/${String(input.IndexName)}` : table;
  return [{ action: `dynamodb:${action}`, resource }];
}
