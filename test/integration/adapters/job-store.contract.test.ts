import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_JOB_ANSWER_BYTES } from '../../../functions/worker/answer-size.js';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { CursorCodec } from '../../../shared/adapters/dynamodb/cursor.js';
import { DynamoJobStore } from '../../../shared/adapters/dynamodb/job-store.js';
import { jobKeys } from '../../../shared/adapters/dynamodb/keys.js';
import { PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import { jobStoreContract } from '../../contracts/job-store.contract.js';

describe('DynamoJobStore on DynamoDB Local', () => {
  let jobs: DynamoJobStore;
  let documentClient: ReturnType<typeof createDocumentClient>;
  let tableName: string;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    tableName = `contract-jobs-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    documentClient = createDocumentClient(client);
    jobs = new DynamoJobStore(
      documentClient,
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );
  });

  jobStoreContract(async () => jobs);

  describe('the 400 KB item limit', () => {
    const T0 = '2026-11-15T10:00:00.000Z';
    const state = {
      progress: { round: 1, partsDone: 1, partsTotal: 2 },
      usage: ZERO_USAGE,
      costNanoUsd: 1,
    };

    it('stores a summary and a checkpoint as long as a model call keeps, on a job with the longest ids and a conflict note', async () => {
      const userId = `u${'x'.repeat(127)}`;
      const jobId = `j${randomUUID()}${'y'.repeat(91)}`;
      await jobs.create({ jobId, userId, type: 'summarize.document', contentHash: 'h' }, T0);
      await jobs.recordConflict(userId, jobId, 'n'.repeat(1_000), T0);
      // Three bytes a character: the cap in bytes, not characters, is what must fit.
      const text = '漢'.repeat(Math.floor(MAX_JOB_ANSWER_BYTES / 3));

      await jobs.saveCheckpoint(userId, jobId, { key: 'k'.repeat(32), text }, state, T0);
      await jobs.markSucceeded(userId, jobId, { summary: text, ...state }, T0);

      expect((await jobs.get(userId, jobId))?.result?.summary).toBe(text);
      expect((await jobs.checkpoints(userId, jobId)).get('k'.repeat(32))).toEqual({ text });
    });

    it('refuses a summary or a checkpoint no item can hold as PayloadTooLargeError, which a retry cannot fix', async () => {
      const userId = `too-large-${randomUUID()}`;
      await jobs.create({ jobId: 'big', userId, type: 'summarize.document' }, T0);
      const text = 'x'.repeat(410_000);

      await expect(
        jobs.saveCheckpoint(userId, 'big', { key: 'k', text }, state, T0),
      ).rejects.toBeInstanceOf(PayloadTooLargeError);
      await expect(
        jobs.markSucceeded(userId, 'big', { summary: text, ...state }, T0),
      ).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(await jobs.get(userId, 'big')).toMatchObject({ status: 'queued' });
    });
  });

  describe('retention', () => {
    const DAY_SECONDS = 24 * 3600;
    const created = '2026-11-01T00:00:00.000Z';
    const ended = '2026-11-29T00:00:00.000Z';
    const expiresAt = async (userId: string, jobId: string) =>
      (
        await documentClient.send(
          new GetCommand({ TableName: tableName, Key: jobKeys.job(userId, jobId) }),
        )
      ).Item?.expiresAt;

    it('keeps a job for 30 days from its end, however long ago it was created', async () => {
      const userId = `retention-${randomUUID()}`;
      const ends: Array<[string, (jobId: string) => Promise<unknown>]> = [
        [
          'succeeded',
          (jobId) =>
            jobs.markSucceeded(
              userId,
              jobId,
              { summary: 's', usage: ZERO_USAGE, costNanoUsd: 1 },
              ended,
            ),
        ],
        [
          'failed',
          (jobId) =>
            jobs.markFailed(
              userId,
              jobId,
              { status: 'failed', error: { type: 'billing_error', message: 'm' } },
              ended,
            ),
        ],
        ['cancelled', (jobId) => jobs.cancel(userId, jobId, ended)],
      ];
      for (const [how, end] of ends) {
        await jobs.create({ jobId: how, userId, type: 'summarize.document' }, created);

        await end(how);

        // Asked again late in its life (a failed job posted again), its result went days after.
        expect(await expiresAt(userId, how), how).toBe(Date.parse(ended) / 1000 + 30 * DAY_SECONDS);
      }
    });

    it('keeps a job asked again for 30 days from then, so TTL never deletes it while it runs again', async () => {
      const userId = `retention-${randomUUID()}`;
      for (const how of ['failed', 'cancelled'] as const) {
        await jobs.create({ jobId: how, userId, type: 'summarize.document' }, created);
        if (how === 'failed') {
          await jobs.markFailed(
            userId,
            how,
            { status: 'failed', error: { type: 'billing_error', message: 'm' } },
            ended,
          );
        } else await jobs.cancel(userId, how, ended);
        // Posted again a day before its retention ends; its batch may wait 24 hours.
        const askedAgain = new Date(Date.parse(ended) + 29 * DAY_SECONDS * 1000).toISOString();

        expect(await jobs.requeue(userId, how, askedAgain), how).toMatchObject({
          status: 'queued',
        });

        expect(await expiresAt(userId, how), how).toBe(
          Date.parse(askedAgain) / 1000 + 30 * DAY_SECONDS,
        );
      }
    });
  });
});
