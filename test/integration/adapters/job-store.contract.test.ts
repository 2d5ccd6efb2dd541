import { randomUUID } from 'node:crypto';
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
import { PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import { jobStoreContract } from '../../contracts/job-store.contract.js';

describe('DynamoJobStore on DynamoDB Local', () => {
  let jobs: DynamoJobStore;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const tableName = `contract-jobs-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    jobs = new DynamoJobStore(
      createDocumentClient(client),
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
      expect((await jobs.checkpoints(userId, jobId)).get('k'.repeat(32))).toBe(text);
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
});
