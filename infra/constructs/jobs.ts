import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOBS_QUEUE_DEFINITION, visibilityTimeoutFor } from '../../shared/jobs/queue-definition.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import { FUNCTION_ENTRY } from '../paths.js';
import { ClaudeFunction, type ClaudeFunctionProps } from './claude-function.js';
import { bindTable } from './data-table.js';
import { bindSecret } from './secrets.js';

export interface JobsProps {
  readonly table: dynamodb.ITable;
  readonly anthropicApiKey: secretsmanager.ISecret;
  /** Function settings and sizing. `timeout` @default JOBS_QUEUE_DEFINITION.workerTimeoutSeconds */
  readonly function: Omit<ClaudeFunctionProps, 'entry' | 'serviceName' | 'description'>;
  /** Concurrent worker invocations the event source may run. @default 10 */
  readonly maxConcurrency?: number;
  /** For both queues: what they hold is work producers sent. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The jobs queue, its dead-letter queue and the worker that consumes it, configured
 * from JOBS_QUEUE_DEFINITION (redrive, visibility, batching) like the local stack; the queue's
 * visibility timeout follows the worker's timeout.
 */
export class Jobs extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly worker: ClaudeFunction;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const timeout =
      props.function.timeout ?? Duration.seconds(JOBS_QUEUE_DEFINITION.workerTimeoutSeconds);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      removalPolicy,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(JOBS_QUEUE_DEFINITION.deadLetterRetentionDays),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      removalPolicy,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibilityTimeoutFor(timeout.toSeconds())),
      retentionPeriod: Duration.days(JOBS_QUEUE_DEFINITION.retentionDays),
      maxMessageSizeBytes: JOBS_QUEUE_DEFINITION.maxMessageBytes,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: JOBS_QUEUE_DEFINITION.maxReceiveCount,
      },
    });

    this.worker = new ClaudeFunction(this, 'Worker', {
      ...props.function,
      timeout,
      entry: FUNCTION_ENTRY.worker,
      serviceName: SERVICE.worker,
      description: 'Claude jobs worker: summaries and compaction from the jobs queue',
      // A job puts its own message back on its queue, delayed: to wait for its batch (every
      // minute, up to a day) and to retry after a long retry-after. Lambda takes that for a
      // runaway loop and stops it after 16 rounds (a batch job dead-lettered after ~16 minutes);
      // the job's own state bounds it.
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
    });
    bindTable(this.worker, props.table);
    bindSecret(this.worker, 'anthropicApiKeySecretArn', props.anthropicApiKey);
    bindJobsQueue(this.worker, this.queue, 'backOff');
    // A batch job waits for its batch by putting its message back, delayed.
    this.queue.grantSendMessages(this.worker.function);
    // A message that can never succeed is moved to the dead-letter queue at once.
    this.deadLetterQueue.grantSendMessages(this.worker.function);
    this.worker.setSetting('deadLetterQueueUrl', this.deadLetterQueue.queueUrl);

    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: JOBS_QUEUE_DEFINITION.batchSize,
        maxBatchingWindow: Duration.seconds(JOBS_QUEUE_DEFINITION.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 10,
      }),
    );
  }
}

/**
 * JOBS_QUEUE_URL set, with the access its use needs: `send` to queue jobs (and read
 * the queue's attributes for /health), `backOff` to delay a message's next delivery.
 */
export function bindJobsQueue(
  fn: ClaudeFunction,
  queue: sqs.IQueue,
  use: 'send' | 'backOff',
): void {
  if (use === 'send') queue.grantSendMessages(fn.function);
  else queue.grant(fn.function, 'sqs:ChangeMessageVisibility');
  fn.setSetting('jobsQueueUrl', queue.queueUrl);
}
