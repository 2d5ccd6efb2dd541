import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { JOBS_QUEUE_DEFINITION, visibilityTimeoutFor } from '../../shared/jobs/queue-definition.js';

export interface JobQueuesOptions {
  queueName: string;
  deadLetterQueueName: string;
  /** For tests that want redelivery within seconds. @default the deployed default's, visibilityTimeoutFor(120) */
  visibilityTimeoutSeconds?: number;
  /** @default JOBS_QUEUE_DEFINITION.maxReceiveCount */
  maxReceiveCount?: number;
}

export interface JobQueues {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
}

/**
 * Creates (or updates) the dead-letter queue and the jobs queue with the redrive policy
 * from `shared/jobs/queue-definition.ts`, as the CDK stack does.
 *
 * `client` must be created with an explicit `endpoint`: the emulator's queue URLs name
 * the host `sqs.<region>.localhost`, which does not resolve, and the SDK would otherwise
 * send each call to the host in the queue URL.
 */
export async function ensureJobQueues(
  client: SQSClient,
  options: JobQueuesOptions,
): Promise<JobQueues> {
  const deadLetter = await ensureQueue(client, options.deadLetterQueueName, {
    MessageRetentionPeriod: String(JOBS_QUEUE_DEFINITION.deadLetterRetentionDays * 24 * 60 * 60),
  });
  const jobs = await ensureQueue(client, options.queueName, {
    MaximumMessageSize: String(JOBS_QUEUE_DEFINITION.maxMessageBytes),
    MessageRetentionPeriod: String(JOBS_QUEUE_DEFINITION.retentionDays * 24 * 60 * 60),
    VisibilityTimeout: String(
      options.visibilityTimeoutSeconds ??
        visibilityTimeoutFor(JOBS_QUEUE_DEFINITION.workerTimeoutSeconds),
    ),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetter.arn,
      maxReceiveCount: options.maxReceiveCount ?? JOBS_QUEUE_DEFINITION.maxReceiveCount,
    }),
  });
  return {
    queueUrl: jobs.url,
    queueArn: jobs.arn,
    deadLetterQueueUrl: deadLetter.url,
    deadLetterQueueArn: deadLetter.arn,
  };
}

async function ensureQueue(
  client: SQSClient,
  queueName: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await client.send(
      new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }),
    ));
  } catch (error) {
    // CreateQueue is idempotent only when the attributes match; otherwise update them.
    // AWS names the error QueueNameExists; fauxqs names it by its query-protocol code.
    if (!/(^|\.)QueueNameExists$/.test((error as Error).name)) throw error;
    ({ QueueUrl: url } = await client.send(new GetQueueUrlCommand({ QueueName: queueName })));
    await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (!url) throw new Error(`CreateQueue returned no URL for ${queueName}`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueName}`);
  return { url, arn };
}
