import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Job, JobStore } from '../../ports/job-store.js';
import { jobKeys } from './keys.js';

/** Finished jobs are kept this long, then DynamoDB TTL removes them. */
const JOB_RETENTION_SECONDS = 30 * 24 * 3600;

/** The JobStore port on the single table. */
export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: Pick<Job, 'jobId' | 'userId' | 'type'>, nowIso: string): Promise<Job> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobKeys.job(job.userId, job.jobId),
        // if_not_exists keeps a job that already exists exactly as it is.
        UpdateExpression:
          'SET jobId = if_not_exists(jobId, :jobId), userId = if_not_exists(userId, :userId), ' +
          '#type = if_not_exists(#type, :type), #status = if_not_exists(#status, :queued), ' +
          'createdAt = if_not_exists(createdAt, :now), updatedAt = if_not_exists(updatedAt, :now), ' +
          'attempts = if_not_exists(attempts, :zero), expiresAt = if_not_exists(expiresAt, :expiresAt)',
        ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
        ExpressionAttributeValues: {
          ':jobId': job.jobId,
          ':userId': job.userId,
          ':type': job.type,
          ':queued': 'queued',
          ':now': nowIso,
          ':zero': 0,
          ':expiresAt': Math.floor(Date.parse(nowIso) / 1000) + JOB_RETENTION_SECONDS,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toJob(Attributes ?? {});
  }

  async get(userId: string, jobId: string): Promise<Job | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: jobKeys.job(userId, jobId),
        ConsistentRead: true,
      }),
    );
    return Item ? toJob(Item) : undefined;
  }

  async markRunning(userId: string, jobId: string, nowIso: string): Promise<void> {
    await this.update(userId, jobId, 'SET #status = :running, updatedAt = :now ADD attempts :one', {
      ':running': 'running',
      ':now': nowIso,
      ':one': 1,
    });
  }

  async markSucceeded(
    userId: string,
    jobId: string,
    outcome: Parameters<JobStore['markSucceeded']>[2],
    nowIso: string,
  ): Promise<void> {
    await this.update(
      userId,
      jobId,
      'SET #status = :succeeded, updatedAt = :now, #result = :result, #usage = :usage, costNanoUsd = :cost REMOVE #error',
      {
        ':succeeded': 'succeeded',
        ':now': nowIso,
        ':result': { summary: outcome.summary },
        ':usage': outcome.usage,
        ':cost': outcome.costNanoUsd,
      },
      // result, usage and error are DynamoDB reserved words.
      { '#result': 'result', '#usage': 'usage', '#error': 'error' },
    );
  }

  async markFailed(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<void> {
    await this.update(
      userId,
      jobId,
      'SET #status = :failed, updatedAt = :now, #error = :error',
      {
        ':failed': 'failed',
        ':now': nowIso,
        ':error': error,
      },
      { '#error': 'error' },
    );
  }

  private async update(
    userId: string,
    jobId: string,
    expression: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobKeys.job(userId, jobId),
        UpdateExpression: expression,
        ExpressionAttributeNames: { '#status': 'status', ...names },
        ExpressionAttributeValues: values,
      }),
    );
  }
}

function toJob(item: Record<string, unknown>): Job {
  const job: Job = {
    jobId: String(item.jobId),
    userId: String(item.userId),
    type: item.type as Job['type'],
    status: item.status as Job['status'],
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    attempts: Number(item.attempts ?? 0),
  };
  if (item.result) job.result = item.result as Job['result'];
  if (item.error) job.error = item.error as Job['error'];
  if (item.usage) job.usage = item.usage as Job['usage'];
  if (item.costNanoUsd !== undefined) job.costNanoUsd = Number(item.costNanoUsd);
  return job;
}
