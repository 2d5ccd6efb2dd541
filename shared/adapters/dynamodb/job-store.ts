import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../domain/conversation.js';
import type { TokenUsage } from '../../domain/usage.js';
import type { PageRequest } from '../../ports/conversation-store.js';
import type {
  Job,
  JobCheckpoint,
  JobProgress,
  JobStatus,
  JobStore,
  KeptAnswer,
  PendingBatch,
} from '../../ports/job-store.js';
import type { CursorCodec } from './cursor.js';
import { deleteFound } from './delete-found.js';
import { conditionHeld, failedItem, isConditionFailure, tooLargeToStore } from './errors.js';
import { queryIndexPage } from './index-page.js';
import { jobKeys } from './keys.js';
import { transactWrite } from './transact.js';

type Item = Record<string, unknown>;

/**
 * Jobs are kept this long from their creation, and again from each end and each time they
 * are asked again (a failed job asked again late in its life runs and keeps its result as
 * long), then DynamoDB TTL removes them
 * (checkpoints too, this long after they were saved).
 */
const JOB_RETENTION_SECONDS = 30 * 24 * 3600;

const expiresAtOf = (nowIso: string) =>
  Math.floor(Date.parse(nowIso) / 1000) + JOB_RETENTION_SECONDS;

/**
 * The JobStore port on the single table: one item per job, listed newest first through
 * gsi1 (`USER#<u>#JOBS`), and its checkpoints in the job's own partition.
 */
export class DynamoJobStore implements JobStore {
  /** @param cursors seals page cursors; only `list` needs it (the worker never lists) */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cursors?: CursorCodec,
  ) {}

  async create(
    job: Pick<Job, 'jobId' | 'userId' | 'type' | 'contentHash' | 'priority'>,
    nowIso: string,
  ): Promise<Job> {
    const optional: Array<[string, unknown]> = [
      ['contentHash', job.contentHash],
      ['priority', job.priority === 'batch' ? 'batch' : undefined],
    ];
    const set = optional.filter(([, value]) => value !== undefined);
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: jobKeys.job(job.userId, job.jobId),
      // if_not_exists keeps a job that already exists exactly as it is.
      UpdateExpression: [
        'SET jobId = if_not_exists(jobId, :jobId), userId = if_not_exists(userId, :userId)',
        '#type = if_not_exists(#type, :type), #status = if_not_exists(#status, :queued)',
        'createdAt = if_not_exists(createdAt, :now), updatedAt = if_not_exists(updatedAt, :now)',
        'attempts = if_not_exists(attempts, :zero), expiresAt = if_not_exists(expiresAt, :expiresAt)',
        'gsi1pk = if_not_exists(gsi1pk, :gsi1pk), gsi1sk = if_not_exists(gsi1sk, :gsi1sk)',
        ...set.map(([name]) => `${name} = if_not_exists(${name}, :${name})`),
      ].join(', '),
      ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
      ExpressionAttributeValues: {
        ':jobId': job.jobId,
        ':userId': job.userId,
        ':type': job.type,
        ':queued': 'queued',
        ':now': nowIso,
        ':zero': 0,
        ':expiresAt': expiresAtOf(nowIso),
        ':gsi1pk': jobKeys.jobsByUser(job.userId),
        ':gsi1sk': jobKeys.jobCreated(nowIso, job.jobId),
        ...Object.fromEntries(set.map(([name, value]) => [`:${name}`, value])),
      },
      // Another content's job is left as it is: its `priority` (absent on a standard job)
      // would otherwise be set by if_not_exists to the other content's, and the hash of a
      // job of another type recorded without one (an earlier compaction's) to this one's.
      ...(job.contentHash !== undefined && {
        ConditionExpression:
          '(attribute_not_exists(#type) OR #type = :type) AND (attribute_not_exists(contentHash) OR contentHash = :contentHash)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      ReturnValues: 'ALL_NEW',
    });
    try {
      const { Attributes } = await this.client.send(update);
      return toJob(Attributes ?? {});
    } catch (error) {
      const item = isConditionFailure(error) ? failedItem(error) : undefined;
      if (!item) throw error;
      return toJob(item);
    }
  }

  async discard(userId: string, jobId: string, contentHash: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          ConditionExpression: '#status = :queued AND attempts = :zero AND contentHash = :hash',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'queued', ':zero': 0, ':hash': contentHash },
        }),
      );
    } catch (error) {
      // Started, or another's content: it is not ours to discard.
      if (!isConditionFailure(error)) throw error;
    }
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

  async list(userId: string, page: PageRequest & { status?: JobStatus }): Promise<Page<Job>> {
    if (!this.cursors) throw new Error('DynamoJobStore.list needs a CursorCodec');
    const owner = jobKeys.jobsByUser(userId);
    const { status } = page;
    const { items, nextCursor } = await queryIndexPage(
      { client: this.client, tableName: this.tableName, cursors: this.cursors },
      {
        partition: owner,
        cursorOwner: status ? `${owner}#${status}` : owner,
        limit: page.limit,
        ...(page.cursor !== undefined && { cursor: page.cursor }),
        ...(status !== undefined && { filter: { attribute: 'status', value: status } }),
      },
    );
    const jobs = items.map(toJob);
    return nextCursor ? { items: jobs, nextCursor } : { items: jobs };
  }

  async cancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    return this.moveStatus(userId, jobId, {
      UpdateExpression: 'SET #status = :cancelled, updatedAt = :now, expiresAt = :expiresAt',
      // A batch of its own to collect: asked to stop instead (requestCancel).
      ConditionExpression: '#status = :queued AND attribute_not_exists(#batch)',
      ExpressionAttributeNames: { '#status': 'status', '#batch': 'batch' },
      ExpressionAttributeValues: {
        ':cancelled': 'cancelled',
        ':queued': 'queued',
        ':now': nowIso,
        ':expiresAt': expiresAtOf(nowIso),
      },
    });
  }

  async requestCancel(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    return this.moveStatus(userId, jobId, {
      UpdateExpression: 'SET cancelRequestedAt = if_not_exists(cancelRequestedAt, :now)',
      ConditionExpression: '#status = :running OR (#status = :queued AND attribute_exists(#batch))',
      ExpressionAttributeNames: { '#status': 'status', '#batch': 'batch' },
      ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued', ':now': nowIso },
    });
  }

  async recordFailedDeliveries(
    userId: string,
    jobId: string,
    failedDeliveries: number,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression:
            failedDeliveries > 0 ? 'SET failedDeliveries = :count' : 'REMOVE failedDeliveries',
          ConditionExpression: 'attribute_exists(pk)',
          ...(failedDeliveries > 0 && {
            ExpressionAttributeValues: { ':count': failedDeliveries },
          }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async cancelRequested(userId: string, jobId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: jobKeys.job(userId, jobId),
        // The job item holds its summary once it ends: a look reads only what it looks for.
        ProjectionExpression: 'cancelRequestedAt',
        ConsistentRead: true,
      }),
    );
    return Item?.cancelRequestedAt !== undefined;
  }

  async markCancelled(
    userId: string,
    jobId: string,
    spent: { usage: TokenUsage; costNanoUsd: number } | undefined,
    nowIso: string,
  ): Promise<Job | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression: `SET #status = :cancelled, updatedAt = :now, expiresAt = :expiresAt${spent ? ', #usage = :usage, costNanoUsd = :cost' : ''}`,
          ConditionExpression:
            'attribute_exists(cancelRequestedAt) AND #status IN (:running, :queued, :deadLettered)',
          ExpressionAttributeNames: { '#status': 'status', ...(spent && { '#usage': 'usage' }) },
          ExpressionAttributeValues: {
            ':cancelled': 'cancelled',
            ':running': 'running',
            ':queued': 'queued',
            ':deadLettered': 'dead_lettered',
            ':now': nowIso,
            ':expiresAt': expiresAtOf(nowIso),
            ...(spent && { ':usage': spent.usage, ':cost': spent.costNanoUsd }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toJob(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async requeue(userId: string, jobId: string, nowIso: string): Promise<Job | undefined> {
    return this.moveStatus(userId, jobId, {
      // Kept from now: asked again late in its retention (or past it, not yet deleted), it
      // would otherwise be deleted by TTL while it runs, a batch's hold and checkpoints with it.
      UpdateExpression:
        'SET #status = :queued, updatedAt = :now, expiresAt = :expiresAt REMOVE #error, cancelRequestedAt',
      ConditionExpression: '#status IN (:failed, :cancelled)',
      ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
      ExpressionAttributeValues: {
        ':queued': 'queued',
        ':failed': 'failed',
        ':cancelled': 'cancelled',
        ':now': nowIso,
        ':expiresAt': expiresAtOf(nowIso),
      },
    });
  }

  /**
   * A conditional change of the job's status.
   * @returns the job as it is now: changed, or as the refused update found it; undefined when there is none
   */
  private async moveStatus(
    userId: string,
    jobId: string,
    update: Required<
      Pick<
        UpdateCommandInput,
        | 'UpdateExpression'
        | 'ConditionExpression'
        | 'ExpressionAttributeNames'
        | 'ExpressionAttributeValues'
      >
    >,
  ): Promise<Job | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          ...update,
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toJob(Attributes ?? {});
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = failedItem(error);
      return item ? toJob(item) : undefined;
    }
  }

  async markRunning(userId: string, jobId: string, nowIso: string): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression: 'SET #status = :running, updatedAt = :now ADD attempts :one',
          // Asked to cancel, it ends without running; but for a batch of its own to collect first.
          ConditionExpression:
            '(attribute_not_exists(#status) OR #status <> :cancelled) AND (attribute_not_exists(cancelRequestedAt) OR attribute_exists(#batch))',
          ExpressionAttributeNames: { '#status': 'status', '#batch': 'batch' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':cancelled': 'cancelled',
            ':now': nowIso,
            ':one': 1,
          },
        }),
      ),
    );
  }

  async markSucceeded(
    userId: string,
    jobId: string,
    outcome: Parameters<JobStore['markSucceeded']>[2],
    nowIso: string,
  ): Promise<boolean> {
    const kept = outcome.summary !== undefined;
    const written = conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression: `SET #status = :succeeded, updatedAt = :now, expiresAt = :expiresAt, ${kept ? '#result = :result, ' : ''}#usage = :usage, costNanoUsd = :cost REMOVE #error, #batch${kept ? '' : ', #result'}`,
          // Its cancel answered 202: the job ends cancelled, as its user was told.
          ...(!outcome.done && { ConditionExpression: 'attribute_not_exists(cancelRequestedAt)' }),
          // result, usage and error are DynamoDB reserved words.
          ExpressionAttributeNames: {
            '#status': 'status',
            '#result': 'result',
            '#usage': 'usage',
            '#error': 'error',
            '#batch': 'batch',
          },
          ExpressionAttributeValues: {
            ':succeeded': 'succeeded',
            ':now': nowIso,
            ':expiresAt': expiresAtOf(nowIso),
            ...(kept && {
              ':result': {
                summary: outcome.summary,
                ...(outcome.truncated && { truncated: true }),
              },
            }),
            ':usage': outcome.usage,
            ':cost': outcome.costNanoUsd,
          },
        }),
      ),
    );
    return written.catch((error: unknown) => {
      throw tooLargeToStore(error, 'the summary', outcome.summary ?? '');
    });
  }

  async markFailed(
    userId: string,
    jobId: string,
    ending: Parameters<JobStore['markFailed']>[2],
    nowIso: string,
  ): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression:
            'SET #status = :status, updatedAt = :now, expiresAt = :expiresAt, #error = :error',
          // Its cancel answered 202: the job ends cancelled, as its user was told.
          ConditionExpression:
            'attribute_not_exists(cancelRequestedAt) OR attribute_exists(#batch)',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#batch': 'batch' },
          ExpressionAttributeValues: {
            ':status': ending.status,
            ':now': nowIso,
            ':expiresAt': expiresAtOf(nowIso),
            ':error': ending.error,
          },
        }),
      ),
    );
  }

  async markRetrying(
    userId: string,
    jobId: string,
    error: { type: string; message: string },
    nowIso: string,
  ): Promise<'queued' | 'cancel_asked' | 'left'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression: 'SET #status = :queued, updatedAt = :now, #error = :error',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          // Its cancel asked: it ends cancelled now rather than after the retry's delay.
          ConditionExpression:
            '#status = :running AND attribute_not_exists(#batch) AND attribute_not_exists(cancelRequestedAt)',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#batch': 'batch' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':running': 'running',
            ':now': nowIso,
            ':error': error,
          },
        }),
      );
      return 'queued';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = failedItem(error);
      const cancelAsked =
        item?.status === 'running' &&
        item.batch === undefined &&
        item.cancelRequestedAt !== undefined;
      return cancelAsked ? 'cancel_asked' : 'left';
    }
  }

  async recordSpend(
    userId: string,
    jobId: string,
    spent: Parameters<JobStore['recordSpend']>[2],
    nowIso: string,
  ): Promise<void> {
    await this.update(
      userId,
      jobId,
      'SET updatedAt = :now, #usage = :usage, costNanoUsd = :cost',
      { ':now': nowIso, ':usage': spent.usage, ':cost': spent.costNanoUsd },
      { '#usage': 'usage' },
    );
  }

  async recordConflict(
    userId: string,
    jobId: string,
    message: string,
    nowIso: string,
  ): Promise<void> {
    await this.update(
      userId,
      jobId,
      'SET #conflict = :conflict',
      { ':conflict': { message, at: nowIso } },
      { '#conflict': 'conflict' },
    );
  }

  async saveCheckpoint(
    userId: string,
    jobId: string,
    checkpoint: JobCheckpoint,
    state: { progress: JobProgress; usage: Job['usage']; costNanoUsd: number },
    nowIso: string,
  ): Promise<void> {
    try {
      await this.putCheckpoint(userId, jobId, checkpoint, state, nowIso);
    } catch (error) {
      throw tooLargeToStore(error, 'the checkpoint', checkpoint.text);
    }
  }

  private async putCheckpoint(
    userId: string,
    jobId: string,
    checkpoint: JobCheckpoint,
    state: { progress: JobProgress; usage: Job['usage']; costNanoUsd: number },
    nowIso: string,
  ): Promise<void> {
    await transactWrite(this.client, {
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...jobKeys.checkpoint(userId, jobId, checkpoint.key),
              text: checkpoint.text,
              ...(checkpoint.end && { end: checkpoint.end }),
              createdAt: nowIso,
              expiresAt: expiresAtOf(nowIso),
            },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: jobKeys.job(userId, jobId),
            UpdateExpression:
              'SET progress = :progress, #usage = :usage, costNanoUsd = :cost, updatedAt = :now',
            ExpressionAttributeNames: { '#usage': 'usage' },
            ExpressionAttributeValues: {
              ':progress': state.progress,
              ':usage': state.usage,
              ':cost': state.costNanoUsd,
              ':now': nowIso,
            },
          },
        },
      ],
    });
  }

  async forgetCheckpoints(userId: string, jobId: string, keys?: readonly string[]): Promise<void> {
    if (keys) {
      await Promise.all(
        keys.map((key) =>
          this.client.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: jobKeys.checkpoint(userId, jobId, key),
            }),
          ),
        ),
      );
      return;
    }
    await deleteFound(
      { client: this.client, tableName: this.tableName },
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': jobKeys.jobPartition(userId, jobId),
          ':prefix': jobKeys.checkpointPrefix,
        },
        ConsistentRead: true,
      },
    );
  }

  async checkpoints(userId: string, jobId: string): Promise<Map<string, KeptAnswer>> {
    const found = new Map<string, KeptAnswer>();
    let startKey: Item | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': jobKeys.jobPartition(userId, jobId),
            ':prefix': jobKeys.checkpointPrefix,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        const end = item.end === 'cut' || item.end === 'refused' ? item.end : undefined;
        found.set(String(item.sk).slice(jobKeys.checkpointPrefix.length), {
          text: String(item.text),
          ...(end && { end }),
        });
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  async countBatch(
    userId: string,
    jobId: string,
    batchId: string,
    spent: { usage: TokenUsage; costNanoUsd: number },
    nowIso: string,
  ): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKeys.job(userId, jobId),
          UpdateExpression:
            'SET #usage = :usage, costNanoUsd = :cost, #batch.counted = :counted, updatedAt = :now',
          ConditionExpression: '#batch.batchId = :batchId',
          ExpressionAttributeNames: { '#batch': 'batch', '#usage': 'usage' },
          ExpressionAttributeValues: {
            ':usage': spent.usage,
            ':cost': spent.costNanoUsd,
            ':counted': true,
            ':now': nowIso,
            ':batchId': batchId,
          },
        }),
      ),
    );
  }

  async setBatch(
    userId: string,
    jobId: string,
    batch: PendingBatch | undefined,
    nowIso: string,
  ): Promise<void> {
    if (batch) {
      await this.update(
        userId,
        jobId,
        'SET #batch = :batch, updatedAt = :now',
        { ':batch': batch, ':now': nowIso },
        { '#batch': 'batch' },
      );
    } else {
      await this.update(
        userId,
        jobId,
        'SET updatedAt = :now REMOVE #batch',
        { ':now': nowIso },
        { '#batch': 'batch' },
      );
    }
  }

  private async update(
    userId: string,
    jobId: string,
    expression: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<void> {
    const allNames = { ...(expression.includes('#status') && { '#status': 'status' }), ...names };
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobKeys.job(userId, jobId),
        UpdateExpression: expression,
        // DynamoDB refuses an empty map of names.
        ...(Object.keys(allNames).length > 0 && { ExpressionAttributeNames: allNames }),
        ExpressionAttributeValues: values,
      }),
    );
  }
}

function toJob(item: Item): Job {
  const job: Job = {
    jobId: String(item.jobId),
    userId: String(item.userId),
    type: item.type as Job['type'],
    status: item.status as Job['status'],
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    attempts: Number(item.attempts ?? 0),
  };
  if (item.priority === 'batch') job.priority = 'batch';
  if (item.failedDeliveries !== undefined) job.failedDeliveries = Number(item.failedDeliveries);
  if (item.contentHash) job.contentHash = String(item.contentHash);
  if (item.result) job.result = item.result as Job['result'];
  if (item.error) job.error = item.error as Job['error'];
  if (item.usage) job.usage = item.usage as Job['usage'];
  if (item.costNanoUsd !== undefined) job.costNanoUsd = Number(item.costNanoUsd);
  if (item.progress) job.progress = item.progress as JobProgress;
  if (item.batch) job.batch = item.batch as PendingBatch;
  if (item.conflict) job.conflict = item.conflict as Job['conflict'];
  if (item.cancelRequestedAt) job.cancelRequestedAt = String(item.cancelRequestedAt);
  return job;
}
